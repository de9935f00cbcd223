import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** Main-thread garbage-collection pauses seen while a measurement ran. */
export interface GcPauses {
  /** Pause milliseconds, all kinds. */
  ms: number;
  /** Full (mark-compact) collections. */
  major: number;
  /** Young-generation (scavenge) collections. */
  minor: number;
}

/**
 * Counts GC pauses from now until `stop()`. What it misses: incremental marking steps (V8 runs
 * them between tasks, not in a pause), so a major collection costs more CPU than its pause;
 * `--cpu-prof`'s "(garbage collector)" counts both.
 */
export function watchGcPauses(): { stop(): Promise<GcPauses> } {
  const seen: GcPauses = { ms: 0, major: 0, minor: 0 };
  const count = (entries: readonly PerformanceEntry[]) => {
    for (const entry of entries) {
      seen.ms += entry.duration;
      // node's gc entries carry their kind in `detail` (typed only on its own entry class)
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) seen.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) seen.minor++;
    }
  };
  const observer = new PerformanceObserver((list) => count(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    // entries are delivered on a later tick: let them arrive before counting
    stop: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      count(observer.takeRecords());
      observer.disconnect();
      return seen;
    },
  };
}
