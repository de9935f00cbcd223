/** Rate, ETA and duration texts shared by `fleet run`'s bar and `fleet status` (pure, no imports). */

/** Shown instead of an ETA or a rate while none is known. */
const UNKNOWN = '--';

/** `42s`, `3m05s`, `1h02m`: a duration in whole seconds for the ETA column. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return UNKNOWN;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The ETA column: `--` until a rate is known (nothing finished yet) and while stalled, else the
 * windows left over the rate. Never cli-progress's `NF`/`INF`, `NaN` or `Infinity`.
 */
export function formatEta(remaining: number, ratePerSecond: number, stalled: boolean): string {
  if (remaining <= 0) return '0s';
  if (stalled || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0) return UNKNOWN;
  return formatDuration(remaining / ratePerSecond);
}

/** Windows per second with one decimal, `--` until known. */
export function formatRate(ratePerSecond: number): string {
  return Number.isFinite(ratePerSecond) && ratePerSecond > 0 ? ratePerSecond.toFixed(1) : UNKNOWN;
}
