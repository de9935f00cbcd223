import { performance } from 'node:perf_hooks';

/**
 * The event loop's worst delay over a sliding window, measured by a timer's drift: a tick is
 * due every `tickMs`; when it runs late, the loop was blocked for that long. The worst drift of
 * the current window and of the one before is reported, so a stall is seen for at least one
 * full window whenever a probe asks.
 *
 * Why not perf_hooks.monitorEventLoopDelay: its histogram has to be reset to forget old
 * stalls, and a reset that runs in the same timers phase as the late sample (right after the
 * stall) can drop that sample: /livez then misses the very stall it exists for. A drift timer
 * records the stall in its own callback, before any request that follows is handled (timers
 * run before I/O in each loop iteration).
 */
export class EventLoopLag {
  private readonly timer: NodeJS.Timeout;
  private windowStart: number;
  private currentMaxMs = 0;
  private previousMaxMs = 0;

  constructor(
    private readonly windowMs = 5_000,
    tickMs = 50,
  ) {
    let due = performance.now() + tickMs;
    this.windowStart = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.record(now, Math.max(0, now - due));
      due = now + tickMs;
    }, tickMs);
    this.timer.unref();
  }

  /** Worst delay (ms) in the last full window and the current one. */
  maxMs(): number {
    this.roll(performance.now());
    return Math.max(this.previousMaxMs, this.currentMaxMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private record(now: number, lagMs: number): void {
    this.roll(now);
    this.currentMaxMs = Math.max(this.currentMaxMs, lagMs);
  }

  /** Starts a new window when the current one is over (a window with no tick at all counts as empty). */
  private roll(now: number): void {
    const elapsed = Math.floor((now - this.windowStart) / this.windowMs);
    if (elapsed <= 0) return;
    this.previousMaxMs = elapsed === 1 ? this.currentMaxMs : 0;
    this.currentMaxMs = 0;
    this.windowStart += elapsed * this.windowMs;
  }
}
