import { windowAt, type PlannedWindow, type WindowGroup } from '@fleet/grid';
import type IORedis from 'ioredis';
import { withRunScripts, type RunScripts } from './run-scripts';
import { runKeys, runsIndexKey } from './run-keys';
import { geometryOf, runSpecSchema, type RunSpec } from './run-spec';
import { bitAt, RunView, type BlockProgress, type RunProgress } from './run-view';

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

/** One window's outcome, as a worker records it (several per script call). */
export interface WindowCompletion {
  index: number;
  windowId: string;
  outcome: WindowOutcome;
  /** Blocks the window feeds (RunGeometry.blocksOf): each counts it down once. */
  blocks: readonly string[];
  /** Added to the run's sums (timings, tile bytes) the first time only; rounded. */
  stats?: Record<string, number>;
  /** Failure message, for outcome 'failed'. */
  failure?: string;
}

/** A failed window as `fleet retry` re-enqueues it. */
export interface FailedWindow {
  window: PlannedWindow;
  /** The group (job) it belongs to: retry re-enqueues the group, whose done windows are skipped. */
  group: WindowGroup;
  /** Blocks it feeds (the same list the coordinator enqueued it with). */
  blocks: string[];
  error: string;
}

/** What a refresh run starts with (see init). */
export interface RunPreset {
  /** Done bitmap of the windows not inferred again, and how many it marks. */
  done: Buffer;
  doneCount: number;
  /** Carried blocks, recorded merged with the previous run's file. */
  merged: BlockResult[];
}

/** Windows not yet recorded done and blocks not yet merged: a run is finalised when both are 0. */
export interface RunOutstanding {
  windows: number;
  blocks: number;
}

/** What completeBlock returns for a block Redis does not count every window of done (complete-block.lua). */
export const BLOCK_NOT_READY = -1;

/** Blocks one completion call can name: a window's blocks travel as one character each (complete-windows.lua). */
const MAX_BLOCKS_PER_CALL = 94;
const OUTCOME_CODE: Record<WindowOutcome, string> = { done: 'd', skipped: 's', failed: 'f' };


/**
 * A run's shared state in Redis: the spec every process reads, the per-block countdown that
 * triggers merges, counters for the report. All mutations are single Lua scripts.
 */
export class RunState {
  private readonly keys: ReturnType<typeof runKeys>;
  /** The connection, with the run scripts defined on it (callers share it for their own scripts). */
  readonly redis: IORedis & RunScripts;
  /** The read-only look at the run: the counts are computed there only. */
  private readonly view: RunView;

  constructor(redis: IORedis, readonly prefix: string, readonly runId: string) {
    this.keys = runKeys(prefix, runId);
    this.redis = withRunScripts(redis);
    this.view = new RunView(this.redis, prefix, runId);
  }

  /**
   * Stores the spec and block counters once; false if the run already exists (a resume).
   * `windowsPerBlock` lists the blocks to merge; a refresh (`preset`) also marks the windows
   * it does not infer again done and records its carried blocks merged, in the same script.
   */
  async init(spec: RunSpec, windowsPerBlock: Map<string, number>, preset?: RunPreset): Promise<boolean> {
    const k = this.keys;
    const pairs = [...windowsPerBlock].flatMap(([id, n]) => [id, String(n)]);
    const carried = (preset?.merged ?? []).flatMap((r) => [r.blockId, JSON.stringify(r)]);
    const created = await this.redis.fleetInitRun(
      k.spec, k.status, k.blockRemaining, k.blocksRemaining, runsIndexKey(this.prefix), k.windowsDone, k.blocksMerged, k.blockResults, k.stats, k.windowsCarried,
      JSON.stringify(spec), spec.runId, String(windowsPerBlock.size), ...pairs,
      String(carried.length / 2), ...carried, preset?.done ?? Buffer.alloc(0), String(preset?.doneCount ?? 0),
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

  /** Which of `indices` are done, in one BITFIELD read (a group's 64 windows: one command). */
  async doneBits(indices: readonly number[]): Promise<boolean[]> {
    if (indices.length === 0) return [];
    const ops = indices.flatMap((i) => ['GET', 'u1', String(i)]);
    const bits = (await this.redis.call('BITFIELD', this.keys.windowsDone, ...ops)) as number[];
    return bits.map((b) => b === 1);
  }

  /**
   * Records the outcomes of several windows in one script call per 94 distinct blocks (each
   * window once, see complete-windows.lua); returns the blocks that became (or already were)
   * ready to merge. Stats are summed here and added only if every window of the call is new,
   * so a duplicate never counts twice (the sums are report figures; counts come from bitmaps).
   */
  async completeWindows(windows: readonly WindowCompletion[]): Promise<string[]> {
    const ready: string[] = [];
    let start = 0;
    while (start < windows.length) {
      // windows up to the one that would bring a 95th distinct block
      const blocks = new Map<string, number>();
      let end = start;
      for (; end < windows.length; end++) {
        const fresh = windows[end]!.blocks.filter((b) => !blocks.has(b));
        if (blocks.size + fresh.length > MAX_BLOCKS_PER_CALL && end > start) break;
        for (const b of fresh) blocks.set(b, blocks.size);
      }
      for (const id of await this.completeChunk(windows.slice(start, end), blocks)) if (!ready.includes(id)) ready.push(id);
      start = end;
    }
    return ready;
  }

  private async completeChunk(windows: readonly WindowCompletion[], blocks: Map<string, number>): Promise<string[]> {
    const k = this.keys;
    const sums = new Map<string, number>();
    for (const w of windows) for (const [f, v] of Object.entries(w.stats ?? {})) sums.set(f, (sums.get(f) ?? 0) + v);
    const args: string[] = [String(sums.size), ...sums.keys(), ...[...sums.values()].map((v) => String(Math.round(v)))];
    args.push(String(blocks.size), ...blocks.keys(), String(windows.length));
    const failures: string[] = [];
    for (const w of windows) {
      const code = OUTCOME_CODE[w.outcome] + w.blocks.map((b) => String.fromCharCode(33 + blocks.get(b)!)).join('');
      args.push(String(w.index), code);
      if (w.outcome === 'failed') failures.push(String(w.index), w.windowId, w.failure ?? '');
    }
    const ready = await this.redis.fleetCompleteWindows(k.windowsDone, k.windowsSkipped, k.windowsFailed, k.stats, k.blockRemaining, k.failures, ...args, ...failures);
    return ready as string[];
  }

  /** One window's outcome (completeWindows of one). */
  async completeWindow(
    index: number,
    windowId: string,
    outcome: WindowOutcome,
    blocks: readonly string[],
    stats: Record<string, number> = {},
    failure = '',
  ): Promise<string[]> {
    return this.completeWindows([{ index, windowId, outcome, blocks, stats, failure }]);
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

  /**
   * Records a merged block once; returns how many blocks remain, or BLOCK_NOT_READY (nothing
   * recorded) while Redis counts windows of the block not done (complete-block.lua).
   */
  async completeBlock(result: BlockResult): Promise<number> {
    const k = this.keys;
    const remaining = await this.redis.fleetCompleteBlock(k.blocksMerged, k.blockResults, k.blocksRemaining, k.blockRemaining, result.blockId, JSON.stringify(result));
    return Number(remaining);
  }

  /** Windows of the block not yet recorded done (its countdown); 0 when it is ready to merge. */
  async blockWindowsLeft(blockId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.blockRemaining, blockId)) ?? 0);
  }

  /** Ids of the blocks merged so far (a mask tile may go once every block it feeds is here). */
  async mergedBlocks(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.blocksMerged));
  }

  async blockResults(): Promise<BlockResult[]> {
    const all = await this.redis.hgetall(this.keys.blockResults);
    return Object.values(all).map((v) => JSON.parse(v) as BlockResult);
  }

  /** The run's sums (timings, bytes) and its window counts windows_done/_skipped/_failed (from the bitmaps). */
  async stats(): Promise<Record<string, number>> {
    const [raw, counts] = await Promise.all([this.redis.hgetall(this.keys.stats), this.counts()]);
    return {
      ...Object.fromEntries(Object.entries(raw).map(([f, v]) => [f, Number(v)])),
      windows_done: counts.done,
      windows_skipped: counts.skipped,
      windows_failed: counts.failed,
    };
  }

  /** Windows done (inferred), skipped and failed: BITCOUNTs of the bitmaps, the one record (RunView.counts). */
  async counts(): Promise<{ done: number; skipped: number; failed: number }> {
    return this.view.counts();
  }

  async failures(): Promise<Record<string, string>> {
    return this.view.failures();
  }

  /** What the run still waits for before it can be finalised: windows not recorded done, blocks not merged (both 0 when it can). */
  async outstanding(windowCount: number): Promise<RunOutstanding> {
    // the counts leave a refresh's carried windows out, as the window count does (see finish-run.lua)
    const [counts, blocksLeft] = await Promise.all([this.counts(), this.redis.get(this.keys.blocksRemaining)]);
    return { windows: windowCount - (counts.done + counts.skipped + counts.failed), blocks: Number(blocksLeft ?? 0) };
  }

  /**
   * Marks the run done with its report, only if Redis records all `windowCount` windows done
   * (the spec's: a refresh's carried windows are not in it) and every block merged
   * (finish-run.lua); otherwise changes nothing and says what is missing.
   */
  async finish(report: unknown, windowCount: number): Promise<RunOutstanding> {
    const k = this.keys;
    const [ok, windowsDone, blocksLeft] = (await this.redis.fleetFinishRun(k.windowsDone, k.blocksRemaining, k.report, k.status, k.stats, String(windowCount), JSON.stringify(report))) as number[];
    return ok === 1 ? { windows: 0, blocks: 0 } : { windows: windowCount - Number(windowsDone), blocks: Number(blocksLeft) };
  }

  async report(): Promise<unknown> {
    const raw = await this.redis.get(this.keys.report);
    return raw === null ? undefined : JSON.parse(raw);
  }

  /** The run's counts and status (RunView.progress); undefined when there is no such run. */
  async progress(): Promise<RunProgress | undefined> {
    return this.view.progress();
  }

  /**
   * Windows done/skipped/failed/pending per block, from the run's bitmaps (the record that
   * survives any process's death), in the spec's block order; the spec is the schema-checked one.
   */
  async blockProgress(): Promise<BlockProgress[] | undefined> {
    const spec = await this.spec();
    return spec && this.view.blockProgressOf(spec);
  }

  /** The run's failed windows with the blocks they feed and their error, in window order. */
  async failedWindows(): Promise<FailedWindow[]> {
    const spec = await this.spec();
    if (!spec) return [];
    const geometry = geometryOf(spec);
    const failures = await this.failures();
    const out: FailedWindow[] = [];
    for (const [windowId, error] of Object.entries(failures)) {
      const m = /^r(\d+)-c(\d+)$/.exec(windowId);
      if (!m) throw new Error(`run ${this.runId}: failure recorded for a malformed window id ${JSON.stringify(windowId)}`);
      const window = windowAt(geometry.plan, Number(m[1]), Number(m[2]));
      out.push({ window, group: geometry.groupOf(window), blocks: geometry.blocksOf(window), error });
    }
    return out.sort((a, b) => a.window.index - b.window.index);
  }

  /**
   * Hands one bounded chunk of failed windows back to the run (reset-failed.lua): they become
   * pending and are marked in the "retrying" bitmap until `fleet retry` has queued them again,
   * their blocks un-merged. Returns how many were reset and which blocks must merge again.
   * Callers chunk (retry-failed.ts): one call for 10^5 windows overflows the JS stack.
   */
  async resetFailed(windows: readonly Pick<FailedWindow, 'window' | 'blocks'>[]): Promise<{ reset: number; blocks: string[] }> {
    const k = this.keys;
    const args = windows.flatMap((f) => [String(f.window.index), f.window.id, String(f.blocks.length), ...f.blocks]);
    const [n, ...rest] = (await this.redis.fleetResetFailed(
      k.windowsDone, k.windowsFailed, k.blockRemaining, k.failures, k.blocksMerged, k.blockResults, k.blocksRemaining, k.status, k.retrying,
      String(windows.length), ...args,
    )) as [number, ...(number | string)[]];
    return { reset: Number(n), blocks: rest.slice(Number(n)).map(String) };
  }
}
