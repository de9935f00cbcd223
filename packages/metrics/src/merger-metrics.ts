import { Counter, Histogram, type Registry } from 'prom-client';

/** A merger's own metrics (fleet_merger_*), registered in `registry`. */
export class MergerMetrics {
  /** merge-block job attempts by outcome: done (merged now or found already recorded) or failed. */
  readonly merges: Counter<'outcome'>;
  /** Blocks this process merged (not those found already recorded after a re-delivery). */
  readonly blocksMerged: Counter<'run'>;
  readonly mergeSeconds: Histogram;
  readonly runsFinalized: Counter<'complete'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.merges = new Counter({ name: 'fleet_merger_merges_total', help: 'merge-block job attempts, by outcome (done, failed)', labelNames: ['outcome'], registers });
    this.blocksMerged = new Counter({ name: 'fleet_merger_blocks_merged_total', help: 'Blocks merged by this process, by run', labelNames: ['run'], registers });
    this.mergeSeconds = new Histogram({ name: 'fleet_merger_merge_seconds', help: 'Seconds to merge one block (fetch tiles, blend, write the COG)', buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers });
    this.runsFinalized = new Counter({ name: 'fleet_merger_runs_finalized_total', help: 'Runs finalised, by complete (true: no failed window)', labelNames: ['complete'], registers });
  }
}

/** A preparer's own metrics (fleet_preparer_*), registered in `registry`. */
export class PreparerMetrics {
  readonly dalles: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.dalles = new Counter({ name: 'fleet_preparer_dalles_total', help: 'prepare-dalle job attempts, by outcome (done, failed)', labelNames: ['outcome'], registers: [registry] });
  }
}

/** A scheduler's own metrics (fleet_scheduler_*), registered in `registry`. */
export class SchedulerMetrics {
  /** Firings by schedule and outcome: ok, failed, skipped (the schedule's previous run still going). */
  readonly firings: Counter<'schedule' | 'outcome'>;

  constructor(registry: Registry) {
    this.firings = new Counter({ name: 'fleet_scheduler_firings_total', help: 'Schedule firings, by schedule and outcome (ok, failed, skipped)', labelNames: ['schedule', 'outcome'], registers: [registry] });
  }
}
