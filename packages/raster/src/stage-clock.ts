/**
 * Milliseconds spent per named stage of a pipeline, summed over its calls: how a benchmark
 * breaks a merge down (fetch, decode, blend, argmax, encode, overviews, write) without a
 * profiler. Optional everywhere it is passed: production code runs without one.
 */
export class StageClock {
  readonly ms: Record<string, number> = {};

  /** Adds the time since `since` (a performance.now() reading) to `stage`. */
  add(stage: string, since: number): void {
    this.ms[stage] = (this.ms[stage] ?? 0) + (performance.now() - since);
  }

  /** Stage times rounded to whole milliseconds, for a benchmark line. */
  rounded(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.ms).map(([stage, ms]) => [stage, Math.round(ms)]));
  }
}
