import type IORedis from 'ioredis';
import { progressSpecOf, type ProgressSpec } from './progress-spec';
import { runFatalFailures } from './run-failure';
import { runKeys } from './run-keys';
import { geometryOf, type GeometryFields } from './spec-geometry';

// A read-only look at a run, apart from RunState so that `fleet status` loads neither zod (the
// spec is checked by hand, progress-spec.ts) nor the run's Lua scripts: only ioredis.

export interface RunProgress {
  runId: string;
  /** running | done | failed (a merge or finalisation failed for good) | unknown. */
  status: string;
  windows: number;
  done: number;
  skipped: number;
  failed: number;
  blocks: number;
  blocksMerged: number;
}

/** One block's windows by state, for `fleet status`. */
export interface BlockProgress {
  blockId: string;
  /** Windows that feed this block. */
  windows: number;
  /** Windows inferred (outcome done). */
  done: number;
  /** A refresh's windows carried from the previous run: not inferred again (not in the run's window count). */
  carried: number;
  /** Windows with no data at all. */
  skipped: number;
  failed: number;
  /** Windows not finished yet: queued, in a worker's hands, or waiting for a retry. */
  pending: number;
  merged: boolean;
}

/** Bit `i` of a Redis bitmap (Redis numbers bits from the most significant bit of byte 0). */
export function bitAt(bitmap: Buffer, i: number): number {
  return ((bitmap[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

/**
 * Reads a run's counters: BITCOUNTs of its bitmaps, the merged set, the failure hashes. A
 * constant number of Redis commands whatever the run's size, except blockProgress (which reads
 * the bitmaps) and failures (one field per failed window).
 */
export class RunView {
  readonly keys: ReturnType<typeof runKeys>;

  constructor(readonly redis: IORedis, readonly prefix: string, readonly runId: string) {
    this.keys = runKeys(prefix, runId);
  }

  /** Windows done (inferred), skipped and failed: BITCOUNTs of the bitmaps, the one record. */
  async counts(): Promise<{ done: number; skipped: number; failed: number }> {
    const k = this.keys;
    const [finished, skipped, failed, carried] = await Promise.all([
      this.redis.bitcount(k.windowsDone), this.redis.bitcount(k.windowsSkipped), this.redis.bitcount(k.windowsFailed),
      this.redis.hget(k.stats, 'windows_carried'),
    ]);
    // a refresh's windows not inferred again are marked done from the start: not inferred
    return { done: finished - skipped - failed - Number(carried ?? 0), skipped, failed };
  }

  /** The run's spec, checked for the fields progress needs; undefined when there is no such run. */
  async spec(): Promise<ProgressSpec | undefined> {
    const raw = await this.redis.get(this.keys.spec);
    return raw === null ? undefined : progressSpecOf(raw, this.runId);
  }

  /** The run's counts and status; undefined when there is no such run. */
  async progress(): Promise<RunProgress | undefined> {
    const k = this.keys;
    const [spec, status, counts, merged] = await Promise.all([this.spec(), this.redis.get(k.status), this.counts(), this.redis.scard(k.blocksMerged)]);
    if (!spec) return undefined;
    return {
      runId: this.runId,
      status: status ?? 'unknown',
      windows: spec.windowCount,
      done: counts.done,
      skipped: counts.skipped,
      failed: counts.failed,
      blocks: spec.blocks.length,
      blocksMerged: merged,
    };
  }

  /** Windows done/skipped/failed/pending per block (see blockProgressOf); undefined when there is no such run. */
  async blockProgress(): Promise<BlockProgress[] | undefined> {
    const spec = await this.spec();
    return spec && this.blockProgressOf(spec);
  }

  /**
   * Windows done/skipped/failed/pending per block of `spec` (this run's), from the run's
   * bitmaps (the record that survives any process's death), in the spec's block order.
   */
  async blockProgressOf(spec: GeometryFields): Promise<BlockProgress[]> {
    const k = this.keys;
    const [done, skipped, failed, carried, merged] = await Promise.all([
      this.redis.getBuffer(k.windowsDone), this.redis.getBuffer(k.windowsSkipped), this.redis.getBuffer(k.windowsFailed), this.redis.getBuffer(k.windowsCarried),
      this.redis.smembers(k.blocksMerged),
    ]);
    const mergedSet = new Set(merged);
    const geometry = geometryOf(spec);
    const empty = Buffer.alloc(0);
    return spec.blocks.map((block) => {
      const progress: BlockProgress = { blockId: block.id, windows: 0, done: 0, carried: 0, skipped: 0, failed: 0, pending: 0, merged: mergedSet.has(block.id) };
      for (const w of geometry.windowsOfBlock(block)) {
        progress.windows++;
        if (!bitAt(done ?? empty, w.index)) progress.pending++;
        else if (bitAt(carried ?? empty, w.index)) progress.carried++;
        else if (bitAt(failed ?? empty, w.index)) progress.failed++;
        else if (bitAt(skipped ?? empty, w.index)) progress.skipped++;
        else progress.done++;
      }
      return progress;
    });
  }

  /** Failed windows' errors by window id. */
  async failures(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.failures);
  }

  /** What failed for good (a merge, the finalisation), by what failed (run-failure.ts). */
  async fatalFailures(): Promise<Record<string, string>> {
    return runFatalFailures(this.redis, this.prefix, this.runId);
  }

  /** When the run was created, in ms since the epoch; undefined if there is no run or its spec does not say. */
  async createdAt(): Promise<number | undefined> {
    const created = Date.parse((await this.spec())?.createdAt ?? '');
    return Number.isFinite(created) ? created : undefined;
  }
}
