import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * The event loop's worst delay over a sliding window: the histogram is read and reset every
 * `windowMs`, and the worst of the last full window and the current one is reported, so a
 * stall is seen for at least one window whenever a probe asks (a probe can come right after a
 * reset, which a single reset-on-read histogram would miss between two probes' calls).
 */
export class EventLoopLag {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastWindowMaxMs = 0;

  constructor(windowMs = 5_000) {
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.lastWindowMaxMs = this.currentMaxMs();
      this.histogram.reset();
    }, windowMs);
    this.timer.unref();
  }

  /** Worst delay (ms) in the last full window and the current one; the resolution is not subtracted. */
  maxMs(): number {
    return Math.max(this.lastWindowMaxMs, this.currentMaxMs());
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private currentMaxMs(): number {
    // an empty histogram reports max 0 (and min 9.2e18): only max is read
    return this.histogram.max / 1e6;
  }
}
