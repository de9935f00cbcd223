/** What a firing reports, POSTed as JSON to FLEET_NOTIFY_URL on success and on failure. */
export interface FiringSummary {
  schedule: string;
  /** null when the firing was refused before a run existed (preflight, planning). */
  runId: string | null;
  state: 'ok' | 'failed';
  windows: { total: number; done: number; skipped: number; failed: number; pending: number } | null;
  blocks: { total: number; merged: number } | null;
  /** Seconds from the firing to the run's end (or to the refusal). */
  durationS: number;
  /** The run's output (folder or s3:// prefix). */
  output: string;
  /** One line: what happened, or why it failed. */
  message: string;
  firedAt: string;
  finishedAt: string;
}

export interface NotifyLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface NotifyOptions {
  /** Tries in all, the first included. Default 4. */
  attempts?: number;
  /** Pause before the second try, doubled after each. Default 2000 ms. */
  firstDelayMs?: number;
  /** Longest wait for one answer. Default 10000 ms. */
  timeoutMs?: number;
}

/**
 * Only the origin of the URL goes to the logs: a webhook's path or query is often its secret
 * (Slack, Teams, ntfy tokens).
 */
export function notifyTarget(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * POSTs `summary` to `url`, retrying a refused connection, a timeout or a non-2xx answer with
 * a doubling pause. Never throws: a notification that cannot be delivered is logged (error)
 * and the scheduler goes on; returns whether it was delivered.
 */
export async function notify(url: string, summary: FiringSummary, log: NotifyLog, options: NotifyOptions = {}): Promise<boolean> {
  const attempts = options.attempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let delay = options.firstDelayMs ?? 2_000;
  const target = notifyTarget(url);
  const body = JSON.stringify(summary);
  for (let attempt = 1; ; attempt++) {
    let why: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'flair-fleet-scheduler' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // the answer's body is not used: read it so the connection is released
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        log.info({ schedule: summary.schedule, runId: summary.runId, state: summary.state, target, attempt }, 'notification sent');
        return true;
      }
      why = `HTTP ${res.status}`;
    } catch (err) {
      // undici's "fetch failed" says why in its cause (ECONNREFUSED, a DNS failure, the timeout)
      const e = err as { message?: unknown; cause?: { message?: unknown } };
      why = `${typeof e.message === 'string' ? e.message : String(err)}${typeof e.cause?.message === 'string' ? `: ${e.cause.message}` : ''}`;
    }
    if (attempt >= attempts) {
      log.error({ schedule: summary.schedule, runId: summary.runId, target, attempts, err: why }, 'notification not delivered: giving up');
      return false;
    }
    log.warn({ schedule: summary.schedule, runId: summary.runId, target, attempt, err: why, retryInMs: delay }, 'notification not delivered: retrying');
    await new Promise((r) => setTimeout(r, delay));
    delay *= 2;
  }
}
