import { BlockIndex, iterateWindows } from '@fleet/grid';
import { assertRunFits, FleetQueues, RunState, windowPlanOf, type JobPayload, type RunSpec } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type IORedis from 'ioredis';

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
): Promise<EnqueueResult> {
  const state = new RunState(redis, queues.prefix, spec.runId);
  await assertRunFits(redis, queues.prefix, spec, log); // a run that does not fit is refused, not half-enqueued
  const created = await state.init(spec, windowsPerBlock);
  const stored = created ? spec : ((await state.spec()) ?? spec);
  const done = await state.doneBitmap();
  const isDone = (i: number) => ((done[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

  const plan = windowPlanOf(stored);
  const index = new BlockIndex(stored.blocks);
  let batch: JobPayload<'infer-window'>[] = [];
  const result: EnqueueResult = { runId: stored.runId, created, submitted: 0, alreadyDone: 0, outside: 0 };
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
