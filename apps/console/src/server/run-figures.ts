import type { BlockProgress } from '@fleet/jobs';

/** What the console shows of a block: its windows are queued, being inferred, or it is merged or failed. */
export type BlockState = 'waiting' | 'inferring' | 'merged' | 'failed';

/**
 * Pure: a block's state from its window counts. A block with failed windows is "failed" once
 * nothing is left to infer (the merger then writes it incomplete, and a retry may mend it);
 * merged wins, because a merged block is on the map whatever its windows went through.
 */
export function blockState(p: Pick<BlockProgress, 'windows' | 'done' | 'skipped' | 'failed' | 'pending' | 'merged'>): BlockState {
  if (p.merged) return 'merged';
  if (p.failed > 0 && p.pending === 0) return 'failed';
  if (p.pending < p.windows) return 'inferring';
  return 'waiting';
}

/** One reading of a run's finished windows. */
export interface Sample {
  atMs: number;
  finished: number;
}

/** Seconds of samples the rate is measured over: long enough to smooth group-sized steps. */
export const RATE_WINDOW_MS = 30_000;

/**
 * Pure: windows per second over the samples of the last RATE_WINDOW_MS, and the seconds left
 * at that rate (undefined until two samples apart in time show progress, or when done).
 */
export function rateAndEta(samples: readonly Sample[], total: number): { rate?: number; etaS?: number } {
  const last = samples[samples.length - 1];
  if (!last) return {};
  const first = samples.find((s) => s.atMs >= last.atMs - RATE_WINDOW_MS) ?? last;
  const seconds = (last.atMs - first.atMs) / 1000;
  if (seconds <= 0 || last.finished <= first.finished) return {};
  const rate = (last.finished - first.finished) / seconds;
  const left = Math.max(0, total - last.finished);
  return { rate, ...(left > 0 ? { etaS: left / rate } : {}) };
}

/**
 * Keeps each run's recent samples (the server's memory of progress: Redis holds counts, not
 * their history), dropping those older than the rate window.
 */
export class ProgressSamples {
  private readonly byRun = new Map<string, Sample[]>();

  add(runId: string, sample: Sample): Sample[] {
    const list = (this.byRun.get(runId) ?? []).filter((s) => s.atMs >= sample.atMs - RATE_WINDOW_MS);
    const last = list[list.length - 1];
    if (!last || last.atMs !== sample.atMs) list.push(sample);
    this.byRun.set(runId, list);
    return list;
  }
}

/** The file a failure message names: the first absolute path, s3:// URL or key with an extension. */
export function fileOfFailure(message: string): string | undefined {
  const match = /(s3:\/\/[^\s:,;'"()]+|\/[^\s:,;'"()]+\.[A-Za-z0-9]{1,5}|[^\s:,;'"()]+\.(?:tif|tiff|jp2|vrt|onnx|json|tile))/.exec(message);
  return match?.[1];
}
