import { BlockIndex, windowAt, windowsIntersecting, type PlannedWindow } from '@fleet/grid';
import type IORedis from 'ioredis';
import { COMPLETE_BLOCK, COMPLETE_WINDOW, INIT_RUN, RESET_FAILED } from './run-scripts';
import { runKeys, runsIndexKey } from './run-keys';
import { runSpecSchema, windowPlanOf, type RunSpec } from './run-spec';

export type WindowOutcome = 'done' | 'skipped' | 'failed';

/** Per-block result the merger records, aggregated into run.json. */
export interface BlockResult {
  blockId: string;
  /** Object key of the block's GeoTIFF in the output store. */
  key: string;
  bytes: number;
  /** Pixels per FLAIR class id. */
  classPixels: Record<string, number>;
  /** Windows of this block that failed: their pixels are nodata. */
  failedWindows: number;
  mergeMs: number;
}

export interface RunProgress {
  runId: string;
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
  /** Windows with no data at all. */
  skipped: number;
  failed: number;
  /** Windows not finished yet: queued, in a worker's hands, or waiting for a retry. */
  pending: number;
  merged: boolean;
}

/** A failed window as `fleet retry` re-enqueues it. */
export interface FailedWindow {
  window: PlannedWindow;
  /** Blocks it feeds (the same list the coordinator enqueued it with). */
  blocks: string[];
  error: string;
}

/** Windows per RESET_FAILED call. */
const RESET_CHUNK = 5_000;

/** Bit `i` of a Redis bitmap (Redis numbers bits from the most significant bit of byte 0). */
function bitAt(bitmap: Buffer, i: number): number {
  return ((bitmap[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

/**
 * A run's shared state in Redis: the spec every process reads, the per-block countdown that
 * triggers merges, counters for the report. All mutations are single Lua scripts.
 */
export class RunState {
  private readonly keys: ReturnType<typeof runKeys>;

  constructor(readonly redis: IORedis, readonly prefix: string, readonly runId: string) {
    this.keys = runKeys(prefix, runId);
  }

  /** Stores the spec and block counters once; false if the run already exists (a resume). */
  async init(spec: RunSpec, windowsPerBlock: Map<string, number>): Promise<boolean> {
    const k = this.keys;
    const pairs = [...windowsPerBlock].flatMap(([id, n]) => [id, String(n)]);
    const created = await this.redis.eval(
      INIT_RUN, 5, k.spec, k.status, k.blockRemaining, k.blocksRemaining, runsIndexKey(this.prefix),
      JSON.stringify(spec), spec.runId, String(windowsPerBlock.size), ...pairs,
    );
    return created === 1;
  }

  async spec(): Promise<RunSpec | undefined> {
    const raw = await this.redis.get(this.keys.spec);
    return raw === null ? undefined : runSpecSchema.parse(JSON.parse(raw));
  }

  /** Window indices already finished (for a coordinator resuming an interrupted enqueue). */
  async isWindowDone(index: number): Promise<boolean> {
    return (await this.redis.getbit(this.keys.windowsDone, index)) === 1;
  }

  async doneBitmap(): Promise<Buffer> {
    return (await this.redis.getBuffer(this.keys.windowsDone)) ?? Buffer.alloc(0);
  }

  /** Records a window's outcome once; returns the blocks that became (or already were) ready to merge. */
  async completeWindow(
    index: number,
    windowId: string,
    outcome: WindowOutcome,
    blocks: readonly string[],
    stats: Record<string, number> = {},
    failure = '',
  ): Promise<string[]> {
    const k = this.keys;
    const outcomeKey = outcome === 'failed' ? k.windowsFailed : k.windowsSkipped;
    const statPairs = Object.entries(stats).flatMap(([f, v]) => [f, String(Math.round(v))]);
    const ready = await this.redis.eval(
      COMPLETE_WINDOW, 5, k.windowsDone, outcomeKey, k.stats, k.blockRemaining, k.failures,
      String(index), outcome, windowId, failure, String(statPairs.length / 2), ...statPairs, ...blocks,
    );
    return ready as string[];
  }

  async windowFlags(index: number): Promise<{ skipped: boolean; failed: boolean }> {
    const [skipped, failed] = await Promise.all([
      this.redis.getbit(this.keys.windowsSkipped, index),
      this.redis.getbit(this.keys.windowsFailed, index),
    ]);
    return { skipped: skipped === 1, failed: failed === 1 };
  }

  /** How many of `windows` failed, from one read of the failed bitmap (a block has hundreds). */
  async countFailed(windows: Iterable<{ index: number }>): Promise<number> {
    const failed = (await this.redis.getBuffer(this.keys.windowsFailed)) ?? Buffer.alloc(0);
    let count = 0;
    for (const w of windows) count += bitAt(failed, w.index);
    return count;
  }

  /** Records a merged block once; returns how many blocks remain. */
  async completeBlock(result: BlockResult): Promise<number> {
    const k = this.keys;
    const remaining = await this.redis.eval(COMPLETE_BLOCK, 3, k.blocksMerged, k.blockResults, k.blocksRemaining, result.blockId, JSON.stringify(result));
    return Number(remaining);
  }

  /** Ids of the blocks merged so far (a mask tile may go once every block it feeds is here). */
  async mergedBlocks(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.blocksMerged));
  }

  async blockResults(): Promise<BlockResult[]> {
    const all = await this.redis.hgetall(this.keys.blockResults);
    return Object.values(all).map((v) => JSON.parse(v) as BlockResult);
  }

  async stats(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.stats);
    return Object.fromEntries(Object.entries(raw).map(([f, v]) => [f, Number(v)]));
  }

  async failures(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.failures);
  }

  async finish(report: unknown): Promise<void> {
    await this.redis.multi().set(this.keys.report, JSON.stringify(report)).set(this.keys.status, 'done').exec();
  }

  async report(): Promise<unknown> {
    const raw = await this.redis.get(this.keys.report);
    return raw === null ? undefined : JSON.parse(raw);
  }

  async progress(): Promise<RunProgress | undefined> {
    const k = this.keys;
    const [spec, status, stats, merged] = await Promise.all([
      this.redis.get(k.spec), this.redis.get(k.status), this.redis.hgetall(k.stats), this.redis.scard(k.blocksMerged),
    ]);
    if (spec === null) return undefined;
    const parsed = JSON.parse(spec) as RunSpec;
    const n = (f: string) => Number(stats[f] ?? 0);
    return {
      runId: this.runId,
      status: status ?? 'unknown',
      windows: parsed.windowCount,
      done: n('windows_done'),
      skipped: n('windows_skipped'),
      failed: n('windows_failed'),
      blocks: parsed.blocks.length,
      blocksMerged: merged,
    };
  }

  /**
   * Windows done/skipped/failed/pending per block, from the run's bitmaps (the record that
   * survives any process's death), in the spec's block order.
   */
  async blockProgress(): Promise<BlockProgress[] | undefined> {
    const spec = await this.spec();
    if (!spec) return undefined;
    const k = this.keys;
    const [done, skipped, failed, merged] = await Promise.all([
      this.redis.getBuffer(k.windowsDone),
      this.redis.getBuffer(k.windowsSkipped),
      this.redis.getBuffer(k.windowsFailed),
      this.redis.smembers(k.blocksMerged),
    ]);
    const mergedSet = new Set(merged);
    const plan = windowPlanOf(spec);
    const empty = Buffer.alloc(0);
    return spec.blocks.map((block) => {
      const progress: BlockProgress = { blockId: block.id, windows: 0, done: 0, skipped: 0, failed: 0, pending: 0, merged: mergedSet.has(block.id) };
      for (const w of windowsIntersecting(plan, block)) {
        progress.windows++;
        if (!bitAt(done ?? empty, w.index)) progress.pending++;
        else if (bitAt(failed ?? empty, w.index)) progress.failed++;
        else if (bitAt(skipped ?? empty, w.index)) progress.skipped++;
        else progress.done++;
      }
      return progress;
    });
  }

  /** The run's failed windows with the blocks they feed and their error, in window order. */
  async failedWindows(): Promise<FailedWindow[]> {
    const spec = await this.spec();
    if (!spec) return [];
    const plan = windowPlanOf(spec);
    const index = new BlockIndex(spec.blocks);
    const failures = await this.failures();
    const out: FailedWindow[] = [];
    for (const [windowId, error] of Object.entries(failures)) {
      const m = /^r(\d+)-c(\d+)$/.exec(windowId);
      if (!m) throw new Error(`run ${this.runId}: failure recorded for a malformed window id ${JSON.stringify(windowId)}`);
      const window = windowAt(plan, Number(m[1]), Number(m[2]));
      out.push({ window, blocks: index.touching(window), error });
    }
    return out.sort((a, b) => a.window.index - b.window.index);
  }

  /**
   * Hands failed windows back to the run (see RESET_FAILED): they become pending, their
   * blocks un-merged. Returns how many windows were reset and which blocks must merge again.
   */
  async resetFailed(windows: readonly FailedWindow[]): Promise<{ reset: number; blocks: string[] }> {
    const k = this.keys;
    let reset = 0;
    const touched = new Set<string>();
    // bounded script calls: one call for 10^5 windows overflows the JS stack (argument spread)
    for (let i = 0; i < windows.length || i === 0; i += RESET_CHUNK) {
      const part = windows.slice(i, i + RESET_CHUNK);
      const args = part.flatMap((f) => [String(f.window.index), f.window.id, String(f.blocks.length), ...f.blocks]);
      const [n, ...blocks] = (await this.redis.eval(
        RESET_FAILED, 9, k.windowsDone, k.windowsFailed, k.stats, k.blockRemaining, k.failures, k.blocksMerged, k.blockResults, k.blocksRemaining, k.status,
        String(part.length), ...args,
      )) as [number, ...string[]];
      reset += Number(n);
      for (const b of blocks) touched.add(b);
    }
    return { reset, blocks: [...touched] };
  }
}
