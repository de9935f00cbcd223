import type IORedis from 'ioredis';
import { runKeys } from './run-keys';
import type { RunSpec } from './run-spec';

/*
 * What a run costs in Redis, measured on Redis 7.0 (jemalloc) with BullMQ 5.81 and a
 * département-like payload (run id of 20 characters, two block ids of 14):
 * - 20,000 infer-window jobs added with addWindows raised used_memory by 975 bytes per job:
 *   MEMORY USAGE of one job hash 886 bytes, 26 bytes per entry of the wait list, and the
 *   queue's events stream (capped by BullMQ at ~10,000 entries: 765 KB) spread over them.
 * - a run bitmap: MEMORY USAGE 131,120 bytes for 10^6 bits, i.e. 1/8 byte per window, and
 *   a run has three (done, skipped, failed).
 * - per block: a field of block-remaining, a merge job (kept a day once complete) and its
 *   result in block-results: about 2 KB.
 * Rounded up, since an estimate that is too low is what lets a run wedge the fleet.
 */
/**
 * Bytes one queued job takes in Redis (measured: 975 for a window job; a group job's payload,
 * ids only, is smaller still).
 */
export const BYTES_PER_JOB = 1_000;
/** Bytes per window of the run's three bitmaps (3 bits). */
export const BITMAP_BYTES_PER_WINDOW = 3 / 8;
/** Bytes per output block (countdown field, merge job, result). */
export const BYTES_PER_BLOCK = 2_000;
/** Events streams (capped at ~10,000 entries each) and queue metadata. */
export const FIXED_RUN_BYTES = 4 * 1024 * 1024;

export interface RedisMemory {
  /** used_memory from INFO memory. */
  used: number;
  /** maxmemory; 0 = no limit. */
  max: number;
}

export async function redisMemory(redis: IORedis): Promise<RedisMemory> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { used: field('used_memory'), max: field('maxmemory') };
}

/** Jobs that carry `windows` windows of the run: one per group of up to groupSide^2 windows. */
export function jobsFor(spec: Pick<RunSpec, 'groupSide'>, windows: number): number {
  const side = spec.groupSide ?? 1;
  return Math.ceil(windows / (side * side));
}

/** Bytes a run will add to Redis when the jobs holding `windows` of its windows are enqueued. */
export function estimateRunBytes(spec: RunSpec, windows: number, specStored: boolean): number {
  return Math.ceil(
    jobsFor(spec, windows) * BYTES_PER_JOB +
      spec.windowCount * BITMAP_BYTES_PER_WINDOW +
      spec.blocks.length * BYTES_PER_BLOCK +
      (specStored ? 0 : Buffer.byteLength(JSON.stringify(spec))) +
      FIXED_RUN_BYTES,
  );
}

/** Redis lacks the memory a run needs: refused before anything is enqueued (exit code 2 in the CLI). */
export class RedisFullError extends Error {
  readonly exitCode = 2;
  constructor(readonly needed: number, readonly free: number, message: string) {
    super(message);
    this.name = 'RedisFullError';
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Refuses a run that would not fit in Redis's `maxmemory`: enqueueing would die with OOM
 * half-way, and a Redis full of jobs refuses the very scripts that hand them to workers (only
 * completions free memory, so it never recovers). Windows already done (a resume) are not
 * counted; jobs of a resumed run that are still queued are (the estimate errs on the safe side).
 * With no maxmemory set there is nothing to compare with: the check is skipped and said so.
 */
export async function assertRunFits(redis: IORedis, prefix: string, spec: RunSpec, log?: { info(obj: object, msg: string): void }): Promise<{ needed: number; free?: number }> {
  const k = runKeys(prefix, spec.runId);
  const [memory, specStored, done] = await Promise.all([redisMemory(redis), redis.exists(k.spec), redis.bitcount(k.windowsDone)]);
  const needed = estimateRunBytes(spec, Math.max(0, spec.windowCount - done), specStored === 1);
  if (memory.max === 0) {
    log?.info({ runId: spec.runId, neededBytes: needed }, 'Redis has no maxmemory: the run is enqueued without a memory check');
    return { needed };
  }
  const free = Math.max(0, memory.max - memory.used);
  if (needed > free) {
    throw new RedisFullError(
      needed,
      free,
      `Redis has ${mb(free)} free (maxmemory ${mb(memory.max)}, used ${mb(memory.used)}) but run ${spec.runId} needs about ${mb(needed)} ` +
        `(${jobsFor(spec, spec.windowCount - done)} jobs for ${spec.windowCount - done} windows): raise maxmemory or free memory (fleet runs lists the runs it holds)`,
    );
  }
  return { needed, free };
}
