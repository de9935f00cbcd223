import { iterateWindows, type WindowGroup } from '@fleet/grid';
import { assertRunFits, carriedWindowsBitmap, FleetQueues, geometryOf, outputKeys, RunState, type RunPreset, type RunSpec } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import { openStore, type ObjectStore } from '@fleet/storage';
import type IORedis from 'ioredis';
import { reconcileIfNeeded, type ReconcileResult } from './reconcile-from-storage';

export interface EnqueueResult {
  runId: string;
  /** False when the run already existed (a resumed or repeated enqueue). */
  created: boolean;
  /** Group jobs submitted now (duplicates of pending jobs are ignored by BullMQ). */
  groups: number;
  /** Windows still to do in the submitted groups. */
  submitted: number;
  /** Windows already finished, skipped on resume. */
  alreadyDone: number;
  /** Windows that touch no block (gaps between dalles): never inferred. */
  outside: number;
  /** What was found in storage and restored, when the run state was rebuilt from it. */
  reconciled?: ReconcileResult;
}

export interface EnqueueOptions {
  /** Rebuild the run state from storage even though Redis has the run and it was reconciled. Default false. */
  reconcile?: boolean;
  /** The run's output store. Default: opened from the spec's output (and closed after). */
  store?: ObjectStore;
}

async function putRunSpec(spec: RunSpec, given: ObjectStore | undefined): Promise<void> {
  const own = given ? undefined : openStore(spec.output);
  try {
    await (given ?? own!).put(outputKeys.runSpec(spec.runId), Buffer.from(JSON.stringify(spec, null, 2) + '\n'));
  } finally {
    await own?.close();
  }
}

/**
 * A refresh run's starting state: the windows it does not infer again are done (so the groups
 * holding none of its windows are never enqueued, and workers skip them in the others), and
 * its carried blocks are merged with the previous run's file (no merge job, nothing written).
 */
function refreshPreset(spec: RunSpec): RunPreset | undefined {
  if (!spec.refresh) return undefined;
  const geometry = geometryOf(spec);
  const total = geometry.plan.colStarts.length * geometry.plan.rowStarts.length;
  const carried = carriedWindowsBitmap(spec, iterateWindows(geometry.plan), total, (w) => geometry.feedsABlock(w))!;
  const merged = spec.refresh.carried.map((b) => ({ blockId: b.blockId, key: b.key, bytes: b.bytes, classPixels: b.classPixels, failedWindows: 0, mergeMs: 0 }));
  return { done: carried.bitmap, doneCount: carried.count, merged };
}

/** Group jobs per addBulk call (one round trip, one MULTI in Redis). */
const CHUNK = 1000;

/**
 * Records the run in Redis (once) and enqueues its window groups with deterministic ids, in
 * chunks. Safe to repeat or to restart half-way: groups whose windows are all done are
 * skipped using the run's done bitmap, and pending ones are deduplicated by job id.
 */
export async function enqueueRun(
  redis: IORedis,
  queues: FleetQueues,
  spec: RunSpec,
  windowsPerBlock: Map<string, number>,
  log?: Logger,
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const state = new RunState(redis, queues.prefix, spec.runId);
  await assertRunFits(redis, queues.prefix, spec, log); // a run that does not fit is refused, not half-enqueued
  const created = await state.init(spec, windowsPerBlock, refreshPreset(spec));
  const stored = created ? spec : ((await state.spec()) ?? spec);
  // the spec next to the outputs, for the next night's refresh to compare with (a PUT of the
  // same bytes when a lost run is created again)
  if (created) await putRunSpec(stored, options.store);
  // Redis had no such run (first run, or Redis lost it): storage holds the truth of what was
  // done, so tiles already there are not inferred again and merged blocks not merged again
  // (also when an enqueue died between creating the run and reconciling it)
  const reconciled = await reconcileIfNeeded(redis, queues, stored, { force: created || options.reconcile, store: options.store }, log);
  const done = await state.doneBitmap();
  const anyDone = done.some((byte) => byte !== 0);
  const isDone = (i: number) => ((done[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

  const geometry = geometryOf(stored);
  const total = geometry.plan.colStarts.length * geometry.plan.rowStarts.length;
  const result: EnqueueResult = { runId: stored.runId, created, groups: 0, submitted: 0, alreadyDone: 0, outside: total - geometry.inferableCount, ...(reconciled ? { reconciled } : {}) };
  let batch: WindowGroup[] = [];
  const flush = async () => {
    await queues.addGroups(stored.runId, batch);
    result.groups += batch.length;
    batch = [];
  };
  for (const group of geometry.groups()) {
    if (anyDone) {
      // a restarted enqueue: only groups with a window left go back on the queue
      let left = 0;
      for (const w of geometry.windowsOfGroup(group)) {
        if (isDone(w.index)) result.alreadyDone++;
        else left++;
      }
      if (left === 0) continue;
      result.submitted += left;
    }
    batch.push(group);
    if (batch.length >= CHUNK) await flush();
  }
  if (batch.length) await flush();
  if (!anyDone) result.submitted = geometry.inferableCount;
  // a refresh's windows not inferred again were marked done at creation: not "already done"
  if (stored.refresh) result.alreadyDone -= stored.refresh.carriedWindows;
  log?.info({ ...result, windows: stored.windowCount, blocks: stored.blocks.length, groupSide: geometry.groupSide }, created ? 'run enqueued' : 'run resumed');
  return result;
}
