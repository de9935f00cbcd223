import { listRuns, runIdSchema, RunState, type RunListing } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';
import type IORedis from 'ioredis';
import { readOutputReport, readOutputReports } from './published-map';
import { blockState, fileOfFailure, ProgressSamples, rateAndEta, type BlockState } from './run-figures';

/** A run as the runs list shows it: `fleet runs`'s listing (no expiry), plus where it was found and its pace. */
export interface RunSummary extends Omit<RunListing, 'expiresInS'> {
  /** Where the console learned of it: Redis (live state), the output (run.json), or both. */
  known: Array<'redis' | 'output'>;
  rate?: number;
  etaS?: number;
}

export interface BlockView {
  id: string;
  /** Pixel rectangle in the mosaic (from the run's spec): where the block is drawn. */
  x: number;
  y: number;
  width: number;
  height: number;
  state: BlockState;
  windows: number;
  windowsDone: number;
}

export interface RunView {
  runId: string;
  status: string;
  source: 'redis' | 'output';
  createdAt: string;
  windows: { total: number; done: number; skipped: number; failed: number; finished: number };
  rate?: number;
  etaS?: number;
  mosaic?: { width: number; height: number };
  blocks: BlockView[];
  failures: Array<{ window: string; message: string; file?: string }>;
  failuresTotal: number;
}

/** Failures listed on the page: enough to see the pattern; `fleet status` has them all. */
const MAX_FAILURES = 200;

/** Reads runs from Redis (live) and from the output store (finished, possibly forgotten by Redis). */
export class RunReader {
  private readonly samples = new ProgressSamples();

  constructor(private readonly redis: IORedis | undefined, private readonly prefix: string, private readonly store: ObjectStore | undefined) {}

  /**
   * The runs, newest first. A Redis that does not answer does not hide the output's runs:
   * its error comes back beside them, for the page to say so.
   */
  async list(): Promise<{ runs: RunSummary[]; redisError?: string }> {
    const byId = new Map<string, RunSummary>();
    let redisError: string | undefined;
    if (this.redis) {
      const { runs } = await listRuns(this.redis, this.prefix).catch((err: Error) => {
        redisError = `Redis did not answer: ${err.message}`;
        return { runs: [] };
      });
      const now = Date.now();
      for (const r of runs) {
        const figures = rateAndEta(this.samples.add(r.runId, { atMs: now, finished: r.finished }), r.windows);
        byId.set(r.runId, { ...r, known: ['redis'], ...figures });
      }
    }
    if (this.store) {
      for (const report of await readOutputReports(this.store)) {
        const known = byId.get(report.runId);
        if (known) {
          known.known.push('output');
          continue;
        }
        const w = report.windows ?? { total: 0, done: 0, skipped: 0, failed: 0 };
        byId.set(report.runId, {
          runId: report.runId,
          createdAt: report.createdAt ?? '',
          status: 'done',
          windows: w.total,
          finished: w.done + w.skipped + w.failed,
          failed: w.failed,
          blocks: report.blocks?.length ?? 0,
          blocksMerged: report.blocks?.length ?? 0,
          known: ['output'],
        });
      }
    }
    const runs = [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.runId.localeCompare(b.runId));
    return { runs, ...(redisError ? { redisError } : {}) };
  }

  /** One run, live from Redis when it is there, else from its run.json; undefined when unknown. */
  async get(runId: string): Promise<RunView | undefined> {
    if (!runIdSchema.safeParse(runId).success) return undefined;
    if (this.redis) {
      const live = await this.fromRedis(runId);
      if (live) return live;
    }
    return this.store ? this.fromOutput(runId) : undefined;
  }

  private async fromRedis(runId: string): Promise<RunView | undefined> {
    const state = new RunState(this.redis!, this.prefix, runId);
    // one spec read and the three bitmaps per poll: blockProgress derives every block's counts from them
    const [progress, spec, blocks, failures] = await Promise.all([state.progress(), state.spec(), state.blockProgress(), state.failures()]);
    if (!progress || !spec || !blocks) return undefined;
    const finished = progress.done + progress.skipped + progress.failed;
    const figures = rateAndEta(this.samples.add(runId, { atMs: Date.now(), finished }), progress.windows);
    const rects = new Map(spec.blocks.map((b) => [b.id, b]));
    const failureList = Object.entries(failures).sort(([a], [b]) => a.localeCompare(b));
    return {
      runId,
      status: progress.status,
      source: 'redis',
      createdAt: spec.createdAt,
      windows: { total: progress.windows, done: progress.done, skipped: progress.skipped, failed: progress.failed, finished },
      ...figures,
      mosaic: { width: spec.mosaic.width, height: spec.mosaic.height },
      blocks: blocks.map((b) => {
        const r = rects.get(b.blockId)!;
        return { id: b.blockId, x: r.x, y: r.y, width: r.width, height: r.height, state: blockState(b), windows: b.windows, windowsDone: b.windows - b.pending };
      }),
      failures: failureList.slice(0, MAX_FAILURES).map(([window, message]) => ({ window, message, ...optionalFile(message) })),
      failuresTotal: failureList.length,
    };
  }

  private async fromOutput(runId: string): Promise<RunView | undefined> {
    const report = await readOutputReport(this.store!, runId);
    if (!report) return undefined;
    const w = report.windows ?? { total: 0, done: 0, skipped: 0, failed: 0, failures: [] };
    const failures = w.failures ?? [];
    return {
      runId,
      status: 'done',
      source: 'output',
      createdAt: report.createdAt ?? '',
      windows: { total: w.total, done: w.done, skipped: w.skipped, failed: w.failed, finished: w.done + w.skipped + w.failed },
      // run.json keeps no block rectangles: the map view places its blocks from the COGs themselves
      blocks: [],
      failures: failures.slice(0, MAX_FAILURES).map((f) => ({ window: f.window, message: f.error, ...optionalFile(f.error) })),
      failuresTotal: failures.length,
    };
  }
}

function optionalFile(message: string): { file?: string } {
  const file = fileOfFailure(message);
  return file === undefined ? {} : { file };
}
