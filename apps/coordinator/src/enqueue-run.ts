import { BlockIndex, iterateWindows } from '@fleet/grid';
import { FleetQueues, RunState, windowPlanOf, type JobPayload, type RunSpec } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type { ObjectStore } from '@fleet/storage';
import type IORedis from 'ioredis';
import { reconcileIfNeeded, type ReconcileResult } from './reconcile-from-storage';

export interface EnqueueResult {
  runId: string;
  /** False when the run already existed (a resumed or repeated enqueue). */
  created: boolean;
  /** Window jobs submitted now (duplicates of pending jobs are ignored by BullMQ). */
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

const CHUNK = 500;

/**
 * Records the run in Redis (once) and enqueues its windows with deterministic ids, in chunks.
 * Safe to repeat or to restart half-way: finished windows are skipped using the run's done
 * bitmap, and pending ones are deduplicated by job id.
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
  const created = await state.init(spec, windowsPerBlock);
  const stored = created ? spec : ((await state.spec()) ?? spec);
  // Redis had no such run (first run, or Redis lost it): storage holds the truth of what was
  // done, so tiles already there are not inferred again and merged blocks not merged again
  // (also when an enqueue died between creating the run and reconciling it)
  const reconciled = await reconcileIfNeeded(redis, queues, stored, { force: created || options.reconcile, store: options.store }, log);
  const done = await state.doneBitmap();
  const isDone = (i: number) => ((done[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

  const plan = windowPlanOf(stored);
  const index = new BlockIndex(stored.blocks);
  let batch: JobPayload<'infer-window'>[] = [];
  const result: EnqueueResult = { runId: stored.runId, created, submitted: 0, alreadyDone: 0, outside: 0, ...(reconciled ? { reconciled } : {}) };
  for (const w of iterateWindows(plan)) {
    const blocks = index.touching(w);
    if (blocks.length === 0) {
      result.outside++;
      continue;
    }
    if (isDone(w.index)) {
      result.alreadyDone++;
      continue;
    }
    batch.push({ runId: stored.runId, window: { id: w.id, row: w.row, col: w.col, index: w.index, x: w.x, y: w.y, width: w.width, height: w.height }, blocks });
    if (batch.length >= CHUNK) {
      await queues.addWindows(batch);
      result.submitted += batch.length;
      batch = [];
    }
  }
  if (batch.length) await queues.addWindows(batch);
  result.submitted += batch.length;
  log?.info({ ...result, windows: stored.windowCount, blocks: stored.blocks.length }, created ? 'run enqueued' : 'run resumed');
  return result;
}
