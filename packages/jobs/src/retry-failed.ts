import { windowAt, type RunGeometry, type WindowGroup } from '@fleet/grid';
import type IORedis from 'ioredis';
import { jobIds } from './job-catalogue';
import type { FleetQueues } from './queues';
import { persistRun } from './retention';
import { runKeys } from './run-keys';
import { RunState, type FailedWindow } from './run-state';
import { geometryOf, type RunSpec } from './run-spec';

/**
 * Windows per RESET_FAILED_CHUNK call, per batch of job removals and per addBulk: bounded,
 * so 100,000 failed windows cost 20 script calls of ~25,000 arguments each instead of one
 * call that overflows the JS stack (and would block Redis for seconds).
 */
export const RETRY_CHUNK = 5_000;

export interface RetryOptions {
  /** Windows per script call / removal batch / enqueue batch. Default RETRY_CHUNK (5,000). */
  chunk?: number;
  /** Told about merge jobs that could not be removed (held by a merger). */
  onWarning?: (message: string) => void;
}

export interface RetryOutcome {
  /** Failed windows reset by this call. */
  reset: number;
  /** Windows enqueued again: those reset now plus any a previous, interrupted retry had reset. */
  requeued: number;
  /** Group jobs enqueued for them (a group's windows already done are skipped by the worker). */
  jobs: number;
  /** Blocks that must merge again, in the order they were first met. */
  blocks: string[];
}

/** A window to run again with its group (the job that carries it) and the blocks it feeds. */
export type RetryWindow = Pick<FailedWindow, 'window' | 'group' | 'blocks'>;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The distinct groups (jobs) of these windows, in the order first met. */
function groupsOf(windows: readonly RetryWindow[]): WindowGroup[] {
  const seen = new Map<string, WindowGroup>();
  for (const { group } of windows) seen.set(`${group.row}-${group.col}`, group);
  return [...seen.values()];
}

/**
 * Enqueues the groups of these windows again (deterministic ids: a group still queued is not
 * added twice; a group's windows already done are skipped by the worker), in chunks of
 * `chunk`. Returns the number of group jobs submitted.
 */
export async function requeueFailed(queues: FleetQueues, spec: Pick<RunSpec, 'runId'>, windows: readonly RetryWindow[], chunk = RETRY_CHUNK): Promise<number> {
  const groups = groupsOf(windows);
  for (const part of chunks(groups, chunk)) await queues.addGroups(spec.runId, part);
  return groups.length;
}

/** True while a retry of this run has reset windows it has not finished enqueueing. */
export async function retryInProgress(redis: IORedis, prefix: string, runId: string): Promise<boolean> {
  return (await redis.exists(runKeys(prefix, runId).retrying)) === 1;
}

/**
 * `fleet retry`: every failed window of a finished run runs again, and the blocks it feeds
 * merge again. Works at any size (chunks of `chunk` windows) and survives being stopped at
 * any point: a failed window is always either still failed (its bit in windows-failed) or
 * reset and marked in the run's "retrying" bitmap until it is queued, never lost. The order:
 *
 * 0. PERSIST every run key: a finished run's keys carry a TTL, and a re-run must not expire.
 * 1. Per chunk of failed windows: remove their old jobs (BullMQ would ignore an add under an
 *    id it still holds), then reset them in Redis (RESET_FAILED_CHUNK: failed -> pending, bit
 *    set in "retrying", blocks un-merged). Stopped before the reset: they are still failed
 *    and a second `fleet retry` starts over. Stopped after: they are in "retrying".
 * 2. Collect the windows to enqueue: those in "retrying" that are not done (this retry's
 *    and any an interrupted retry left), and the blocks they feed.
 * 3. Remove those blocks' merge jobs and the run's finalise job, before any window is
 *    queued: a window cannot finish (and enqueue its block's merge under the same
 *    deterministic id, which an old completed job would swallow) before it is queued.
 * 4. Enqueue the windows in chunks (requeueFailed), then delete "retrying". Stopped in
 *    between: the windows are still in "retrying", and a second `fleet retry` (allowed while
 *    "retrying" exists, see retryInProgress) enqueues them; the ones already queued are
 *    deduplicated by job id, the ones already done are skipped.
 *
 * Nothing is enqueued before every chunk is reset (rather than reset-and-enqueue per chunk)
 * so that no block can merge while a later chunk still has to un-merge it.
 */
export async function retryFailedWindows(redis: IORedis, queues: FleetQueues, runId: string, options: RetryOptions = {}): Promise<RetryOutcome> {
  const chunk = options.chunk ?? RETRY_CHUNK;
  const prefix = queues.prefix;
  const k = runKeys(prefix, runId);
  const state = new RunState(redis, prefix, runId);
  const spec = await state.spec();
  if (!spec) throw new Error(`no run ${runId} in this Redis (prefix ${prefix})`);

  await persistRun(redis, prefix, runId);

  const blocks = new Set<string>();
  let reset = 0;
  const failed = await state.failedWindows();
  for (const part of chunks(failed, chunk)) {
    await queues.removeGroups(runId, groupsOf(part), chunk);
    const outcome = await state.resetFailed(part);
    reset += outcome.reset;
    for (const blockId of outcome.blocks) blocks.add(blockId);
  }

  const pending = await retryingWindows(redis, geometryOf(spec), k);
  for (const p of pending) for (const b of p.blocks) blocks.add(b);

  if (blocks.size > 0) {
    const ids = [...[...blocks].map((b) => jobIds.block(runId, b)), jobIds.finalize(runId)];
    for (const part of chunks(ids, chunk)) {
      await Promise.all(
        part.map((id) =>
          // a merge a merger holds right now (possible only after an interrupted retry) cannot
          // be removed; its block is un-merged again if one of its windows is reset
          queues.merge.remove(id).catch((err: unknown) => options.onWarning?.(`merge job ${id} not removed: ${err instanceof Error ? err.message : String(err)}`)),
        ),
      );
    }
  }

  const jobs = await requeueFailed(queues, spec, pending, chunk);
  await redis.del(k.retrying);
  return { reset, requeued: pending.length, jobs, blocks: [...blocks] };
}

/** Windows in the run's "retrying" bitmap that are not done, with their group and the blocks they feed. */
async function retryingWindows(redis: IORedis, geometry: RunGeometry, k: ReturnType<typeof runKeys>): Promise<RetryWindow[]> {
  const [retrying, done] = await Promise.all([redis.getBuffer(k.retrying), redis.getBuffer(k.windowsDone)]);
  if (!retrying) return [];
  const cols = geometry.plan.colStarts.length;
  const out: RetryWindow[] = [];
  for (let byte = 0; byte < retrying.length; byte++) {
    const bits = (retrying[byte] ?? 0) & ~(done?.[byte] ?? 0);
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if (!((bits >> (7 - bit)) & 1)) continue;
      const i = byte * 8 + bit;
      const window = windowAt(geometry.plan, Math.floor(i / cols), i % cols);
      out.push({ window, group: geometry.groupOf(window), blocks: geometry.blocksOf(window) });
    }
  }
  return out;
}
