import type IORedis from 'ioredis';
import { runKeys } from './run-keys';
import { withRunScripts, type RunScripts } from './run-scripts';
import type { BlockResult } from './run-state';

/**
 * Windows per script call: a département has ~1.7 M windows, so restoring them is a few
 * hundred calls, each short enough not to hold Redis (single-threaded) for long.
 */
export const RESTORE_CHUNK = 10_000;

/** Block records per restore-blocks.lua call (each carries a result of a few hundred bytes). */
const BLOCK_CHUNK = 1_000;

/**
 * Writes back into Redis what a run's output store proves (restore-*.lua, recount-blocks.lua): used when the
 * run state was lost (Redis wiped, or a fresh Redis) and the run is enqueued again. Kept apart
 * from RunState, which records what processes do; this records what storage already holds.
 */
export class RunRestore {
  private readonly keys: ReturnType<typeof runKeys>;
  private readonly redis: IORedis & RunScripts;

  constructor(redis: IORedis, prefix: string, readonly runId: string) {
    this.keys = runKeys(prefix, runId);
    this.redis = withRunScripts(redis);
  }

  /** Marks windows done (see restore-windows.lua), in chunks; returns how many were newly marked. */
  async restoreWindows(indices: Iterable<number>): Promise<number> {
    let marked = 0;
    let chunk: string[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      marked += Number(await this.redis.fleetRestoreWindows(this.keys.windowsDone, this.keys.stats, ...chunk));
      chunk = [];
    };
    for (const i of indices) {
      chunk.push(String(i));
      if (chunk.length >= RESTORE_CHUNK) await flush();
    }
    await flush();
    return marked;
  }

  /**
   * Marks blocks merged with their recorded results (see restore-blocks.lua); always recounts the
   * blocks left, even with no result. Returns how many were newly marked and how many are left.
   */
  async restoreBlocks(results: readonly BlockResult[], totalBlocks: number): Promise<{ restored: number; remaining: number }> {
    const k = this.keys;
    let restored = 0;
    let remaining = totalBlocks;
    for (let at = 0; at === 0 || at < results.length; at += BLOCK_CHUNK) {
      const pairs = results.slice(at, at + BLOCK_CHUNK).flatMap((r) => [r.blockId, JSON.stringify(r)]);
      const [n, left] = (await this.redis.fleetRestoreBlocks(k.blocksMerged, k.blockResults, k.blocksRemaining, String(totalBlocks), ...pairs)) as [number, number];
      restored += Number(n);
      remaining = Number(left);
    }
    return { restored, remaining };
  }

  /**
   * Sets every given block's countdown from the done bitmap (see recount-blocks.lua), about
   * RESTORE_CHUNK window indices per call; returns the blocks with no window left.
   */
  async recountBlocks(blocks: Iterable<{ id: string; windows: readonly number[] }>): Promise<string[]> {
    const ready: string[] = [];
    let args: string[] = [];
    let windows = 0;
    const flush = async () => {
      if (args.length === 0) return;
      ready.push(...((await this.redis.fleetRecountBlocks(this.keys.windowsDone, this.keys.blockRemaining, ...args)) as string[]));
      args = [];
      windows = 0;
    };
    for (const block of blocks) {
      args.push(block.id, String(block.windows.length), ...block.windows.map(String));
      windows += block.windows.length;
      if (windows >= RESTORE_CHUNK) await flush();
    }
    await flush();
    return ready;
  }

  /** Whether a reconcile from storage finished for this run (set by markReconciled). */
  async isReconciled(): Promise<boolean> {
    return (await this.redis.exists(this.keys.reconciled)) === 1;
  }

  /** Records that the run state was rebuilt from storage, with when (ISO time). */
  async markReconciled(at = new Date()): Promise<void> {
    await this.redis.set(this.keys.reconciled, at.toISOString());
  }

  /** Countdown of windows left per block (for checks and `fleet status`). */
  async blockRemaining(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.blockRemaining);
    return Object.fromEntries(Object.entries(raw).map(([id, n]) => [id, Number(n)]));
  }
}
