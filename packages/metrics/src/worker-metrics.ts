import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Seconds buckets for per-window steps (a cache-hit read is ~1 ms, an S3 upload can take seconds). */
const STEP_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds buckets for one session.run (a GPU batch: ms; a CPU batch of 32 FLAIR windows: tens of s). */
const INFERENCE_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** FLEET_BATCH_SIZE is 1..256: powers of two. */
const BATCH_WINDOWS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** What a window came to (its figures: the worker's WindowWork stats, in ms). */
export type WindowOutcomeName = 'done' | 'skipped' | 'failed';

/** Cumulative counts of a decoded-tile cache (the raster package's TileCache.stats()). */
export interface TileCacheCounts {
  hits: number;
  misses: number;
  bytes: number;
}

/** A worker's own metrics (fleet_worker_*), registered in `registry`. */
export class WorkerMetrics {
  readonly windows: Counter<'run' | 'outcome'>;
  readonly batchWindows: Histogram;
  readonly inferenceSeconds: Histogram;
  readonly readSeconds: Histogram;
  readonly encodeSeconds: Histogram;
  readonly uploadSeconds: Histogram;
  private readonly provider: Gauge<'provider'>;

  constructor(registry: Registry, tileCache?: () => TileCacheCounts) {
    const registers = [registry];
    this.windows = new Counter({ name: 'fleet_worker_windows_total', help: 'Windows this worker finished, by run and outcome (done, skipped: no data, failed: recorded failed)', labelNames: ['run', 'outcome'], registers });
    this.batchWindows = new Histogram({ name: 'fleet_worker_batch_windows', help: 'Real windows per session.run (padding excluded)', buckets: BATCH_WINDOWS, registers });
    this.inferenceSeconds = new Histogram({ name: 'fleet_worker_inference_seconds', help: 'Seconds inside one session.run (one batch)', buckets: INFERENCE_SECONDS, registers });
    this.readSeconds = new Histogram({ name: 'fleet_worker_read_seconds', help: 'Seconds to read one window from the mosaic (decoded-tile cache included)', buckets: STEP_SECONDS, registers });
    this.encodeSeconds = new Histogram({ name: 'fleet_worker_encode_seconds', help: 'Seconds to post-process and encode one window mask tile', buckets: STEP_SECONDS, registers });
    this.uploadSeconds = new Histogram({ name: 'fleet_worker_upload_seconds', help: 'Seconds to upload one mask tile to the output store', buckets: STEP_SECONDS, registers });
    this.provider = new Gauge({ name: 'fleet_worker_provider_info', help: 'Execution provider the model runs on (1 for the one in use)', labelNames: ['provider'], registers });
    if (tileCache) {
      // counted by the cache itself: read at scrape time, counters advanced by the difference
      let seen = { hits: 0, misses: 0 };
      // idempotent (counters advance by the difference): each of the three calls it when read
      const update = () => {
        const now = tileCache();
        // a cache whose counts went back (replaced) starts over from its own counts
        hits.inc(now.hits >= seen.hits ? now.hits - seen.hits : now.hits);
        misses.inc(now.misses >= seen.misses ? now.misses - seen.misses : now.misses);
        bytes.set(now.bytes);
        seen = { hits: now.hits, misses: now.misses };
      };
      const hits = new Counter({ name: 'fleet_worker_tile_cache_hits_total', help: 'Decoded source tiles found in the cache', registers, collect: update });
      const misses = new Counter({ name: 'fleet_worker_tile_cache_misses_total', help: 'Decoded source tiles fetched and inflated (not in the cache)', registers, collect: update });
      const bytes = new Gauge({ name: 'fleet_worker_tile_cache_bytes', help: 'Bytes of decoded tiles held by the cache', registers, collect: update });
    }
  }

  private providerInUse: string | undefined;

  /** The provider in use (the one the session was created with, after any fallback). */
  setProvider(provider: string): void {
    if (provider === this.providerInUse) return;
    this.providerInUse = provider;
    this.provider.reset();
    this.provider.set({ provider }, 1);
  }

  /** One batch, as the inference engine reports it. */
  batch(windows: number, runMs: number, provider?: string): void {
    if (provider !== undefined) this.setProvider(provider);
    this.batchWindows.observe(windows);
    this.inferenceSeconds.observe(runMs / 1000);
  }

  /** One window finished; `stats` in ms as the worker's window steps report them (readMs, postMs, uploadMs). */
  window(run: string, outcome: WindowOutcomeName, stats: Record<string, number> = {}): void {
    this.windows.inc({ run, outcome });
    if (stats.readMs !== undefined) this.readSeconds.observe(stats.readMs / 1000);
    if (stats.postMs !== undefined) this.encodeSeconds.observe(stats.postMs / 1000);
    if (stats.uploadMs !== undefined) this.uploadSeconds.observe(stats.uploadMs / 1000);
  }
}
