import type { RunProgress } from '@fleet/jobs';
import { formatDuration, formatEta, formatRate } from './rate-format';

/**
 * The figures `fleet status --oneline` and `--watch` show, computed from snapshots of the run's
 * counters (pure: no Redis, no clock; the command samples and passes the times in).
 */

/** Windows finished (done + skipped + failed) at a moment: one point of the rate's history. */
export interface FinishedSample {
  /** Milliseconds since the epoch. */
  at: number;
  finished: number;
}

/** The rate is measured over this span by default: long enough to smooth batches, short enough to follow a scale-up. */
export const RATE_SPAN_MS = 5 * 60_000;

/**
 * The samples still needed for a rate over `spanMs` ending at the newest: those inside the span
 * plus the newest one older than it (so the span is covered from its start as soon as history
 * allows). The input is oldest first; so is the output.
 */
export function keepSpan(samples: readonly FinishedSample[], spanMs = RATE_SPAN_MS): FinishedSample[] {
  const newest = samples.at(-1);
  if (!newest) return [];
  let first = samples.findIndex((s) => newest.at - s.at <= spanMs);
  if (first > 0) first--;
  return samples.slice(Math.max(0, first));
}

/**
 * Windows per second between the oldest and the newest sample; undefined until two samples
 * are at least a moment apart. A count that went down (`fleet retry` reset failed windows)
 * yields 0, not a negative rate.
 */
export function rateOf(samples: readonly FinishedSample[]): number | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || last.at - first.at <= 0) return undefined;
  return Math.max(0, (last.finished - first.finished) / ((last.at - first.at) / 1000));
}

/** Seconds until `remaining` windows are finished at `rate`; undefined without a positive rate. */
export function etaSeconds(remaining: number, rate: number | undefined): number | undefined {
  if (remaining <= 0) return 0;
  if (rate === undefined || !Number.isFinite(rate) || rate <= 0) return undefined;
  return remaining / rate;
}

/** wait (with prioritized and paused), active, delayed, failed: one queue's jobs, all runs together. */
export interface QueueDepth {
  wait: number;
  active: number;
  delayed: number;
  failed: number;
}

/** One look at a run: its counters (RunState.progress, bitmap counts) and its queues. */
export interface StatusSnapshot extends RunProgress {
  queues: { infer: QueueDepth; merge: QueueDepth };
}

export const finishedOf = (s: Pick<StatusSnapshot, 'done' | 'skipped' | 'failed'>): number => s.done + s.skipped + s.failed;

/** `24.7%`: one decimal, rounded, but never 100.0% before the last window. */
export function formatPercent(finished: number, windows: number): string {
  if (windows <= 0) return '100.0%';
  const pct = Math.round((finished / windows) * 1000) / 10;
  return `${(finished < windows ? Math.min(pct, 99.9) : pct).toFixed(1)}%`;
}

/**
 * The one line for scripts:
 * `run-x running 1234/5000 windows 24.7% 12.3 win/s eta 5m06s blocks 3/9 failed 0`
 * (`--` for a rate or ETA not known yet). Space-separated, fixed order, so `awk` can pick fields.
 */
export function formatOneline(s: StatusSnapshot, rate: number | undefined): string {
  const finished = finishedOf(s);
  const remaining = s.windows - finished;
  const eta = s.status === 'done' ? '0s' : formatEta(remaining, rate ?? 0, false);
  return `${s.runId} ${s.status} ${finished}/${s.windows} windows ${formatPercent(finished, s.windows)} ${formatRate(rate ?? 0)} win/s eta ${eta} blocks ${s.blocksMerged}/${s.blocks} failed ${s.failed}`;
}

const depth = (q: QueueDepth): string => `wait ${q.wait} active ${q.active} delayed ${q.delayed} failed ${q.failed}`;

/** The lines `--watch` redraws on a terminal. */
export function formatWatchPanel(s: StatusSnapshot, rate: number | undefined, spanMs: number, intervalS: number): string[] {
  const finished = finishedOf(s);
  const eta = s.status === 'done' ? '0s' : formatEta(s.windows - finished, rate ?? 0, false);
  return [
    `run ${s.runId}  ${s.status}  (every ${intervalS}s; Ctrl-C stops watching, not the run)`,
    `windows  ${finished}/${s.windows}  ${formatPercent(finished, s.windows)}  (done ${s.done}, skipped ${s.skipped}, failed ${s.failed})`,
    `rate     ${formatRate(rate ?? 0)} win/s over the last ${formatDuration(spanMs / 1000)}   eta ${eta}`,
    `blocks   ${s.blocksMerged}/${s.blocks} merged`,
    `infer    ${depth(s.queues.infer)}   (queue, all runs)`,
    `merge    ${depth(s.queues.merge)}   (queue, all runs)`,
  ];
}

/**
 * The failures not seen before, one line each, in a stable order (window failures by window
 * id, then what failed for good); `seen` is updated. Keys are prefixed so a window and a block
 * of the same name cannot hide each other.
 */
export function newFailureLines(
  seen: Set<string>,
  windowFailures: Record<string, string>,
  runFailures: Record<string, string>,
): string[] {
  const lines: string[] = [];
  const firstLine = (m: string) => m.split('\n')[0] ?? '';
  for (const [windowId, error] of Object.entries(windowFailures).sort(([a], [b]) => a.localeCompare(b))) {
    if (seen.has(`w:${windowId}`)) continue;
    seen.add(`w:${windowId}`);
    lines.push(`failed: window ${windowId}: ${firstLine(error)}`);
  }
  for (const [what, error] of Object.entries(runFailures).sort(([a], [b]) => a.localeCompare(b))) {
    if (seen.has(`r:${what}`)) continue;
    seen.add(`r:${what}`);
    lines.push(`failed for good: ${what}: ${firstLine(error)}`);
  }
  return lines;
}

/**
 * How a watch ends: undefined while the run goes on; 0 when it is done with every window
 * inferred or skipped; 1 when it is done with failed windows (as `fleet run` exits) or when
 * something failed for good (status failed).
 */
export function watchExitCode(s: Pick<StatusSnapshot, 'status' | 'failed'>): number | undefined {
  if (s.status === 'failed') return 1;
  if (s.status === 'done') return s.failed > 0 ? 1 : 0;
  return undefined;
}
