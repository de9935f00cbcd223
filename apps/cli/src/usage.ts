/**
 * Every command's usage text, in a module that imports nothing: `fleet --help` and
 * `fleet <command> --help` answer from here without loading any command (main.ts imports a
 * command's module only when that command runs).
 */

export const RUN_USAGE = `fleet run --stack <file|dir|s3://...> | --rgb <..> --irc <..> (--elevation <..> | --dsm <..> --dtm <..>)
          --model <dir> --out <dir|s3://...> [--workers N] [--overlap PX]
          [--block-size PX] [--top-k K] [--run-id ID] [--hash-inputs]
  Plans the mosaic, enqueues its windows, runs N workers and the merger, and waits with a
  progress bar. Uses REDIS_URL, or starts a private redis-server when it is unset, its state
  kept with the output (<out>/_fleet/redis) so the same command resumes after Ctrl-C.
  One run per output at a time (a lease in <out>/_fleet/lease.json). Exit codes: 0 done,
  1 failed (windows, a merge, stalled for FLEET_RUN_STALL_S), 2 usage or refused (output
  held by a live run), 130/143 stopped by SIGINT/SIGTERM.
  --hash-inputs (or FLEET_HASH_INPUTS=1): a dalle's identity is the sha256 of its bytes
  instead of its S3 ETag or local size+mtime (a re-delivery of identical bytes is no change).`;

export const ENQUEUE_USAGE = `fleet enqueue <same source/model/out options as fleet run>
  Plans and enqueues a run on REDIS_URL for a fleet of \`fleet worker\` and \`fleet merger\`
  processes; prints the run id. Repeating it (or resuming after a crash) adds nothing twice.`;

export const WORKER_USAGE = `fleet worker        infer windows from REDIS_URL's queue until SIGTERM (FLEET_PROVIDER, FLEET_PROVIDER_FALLBACK, FLEET_MODEL, FLEET_BATCH_SIZE, FLEET_THREADS, FLEET_WARMUP);
                    exits 2 at start when FLEET_PROVIDER cannot be loaded and no fallback is set`;

export const MERGER_USAGE = `fleet merger        merge finished blocks and finalise runs until SIGTERM`;

export const PREPARER_USAGE = `fleet preparer      convert dalles from REDIS_URL's prepare queue until SIGTERM (FLEET_GDAL_THREADS, FLEET_PREPARE_CONCURRENCY)`;

export const STATUS_USAGE = `fleet status <run>  windows done/skipped/failed/pending (per block too) and blocks merged, as JSON`;

export const RETRY_USAGE = `fleet retry <run>   re-run only the failed windows of a run (after fixing their input) and
                    re-merge their blocks, once the run has finished; needs a running worker and merger`;

export const RUNS_USAGE = `fleet runs [--json] the runs in REDIS_URL's Redis, oldest first: id, created, state, windows finished/total,
                    when their state expires (FLEET_RUN_TTL_DAYS after they finish); forgets expired runs`;

export const PREPARE_USAGE = `fleet prepare --src <file.jp2|dir|s3://...> --out <dir|s3://...> [--workers N]
  Converts JPEG 2000 dalles (BD ORTHO .jp2, nested folders kept) to Cloud Optimized GeoTIFFs
  with gdal_translate, one queue job per dalle; dalles already converted and unchanged are
  skipped. With REDIS_URL it only enqueues (for \`fleet preparer\` processes); without, it
  starts a private redis-server and N preparers and waits with a progress bar.`;

export const DEMO_USAGE = `fleet demo [--out DIR] [--dalles N] [--dalle-px PX] [--workers N]
  Makes a synthetic landscape (fields, roads, buildings with height, water, forest) as
  RGB/IRC/elevation GeoTIFF dalles and a small demo model, runs the whole pipeline on them
  (private redis-server unless REDIS_URL is set) and prints where the map is.
  Defaults: --out demo-output, --dalles 2 (2x2), --dalle-px 1280, --workers 1.`;
