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

export const STATUS_USAGE = `fleet status <run> [--oneline] [--watch [--interval S]]
                    default: windows done/skipped/failed/pending (per block too), blocks merged and failures, as JSON;
                    --oneline: "<run> <state> 1234/5000 windows 24.7% 12.3 win/s eta 5m06s blocks 3/9 failed 0"
                    (rate: the mean since the run was created); --watch: every S seconds (default 5) state, rate
                    over the last 5 min, ETA, queue depths, blocks merged and new failures, redrawn on a terminal,
                    one line each time otherwise; exits 0 when the run is done, 1 when it failed or finished with
                    failed windows, 130 on Ctrl-C (the run goes on)`;

export const BOARD_USAGE = `fleet board [--port N] [--host H] [--base-path P] [--allow-actions]
                    Bull Board over the fleet's queues (REDIS_URL, FLEET_QUEUE_PREFIX) until SIGTERM; default
                    127.0.0.1:3000, read-only. FLEET_BOARD_TOKEN (>= 16 characters) is asked as a bearer token or
                    as the basic-auth password (any user); required for any host but loopback (else exit 2)`;

export const RETRY_USAGE = `fleet retry <run>   re-run only the failed windows of a run (after fixing their input) and
                    re-merge their blocks, once the run has finished; needs a running worker and merger`;

export const RUNS_USAGE = `fleet runs [--json] the runs in REDIS_URL's Redis, oldest first: id, created, state, windows finished/total,
                    when their state expires (FLEET_RUN_TTL_DAYS after they finish); forgets expired runs`;

export const PREPARE_USAGE = `fleet prepare --src <file.jp2|dir|s3://...> --out <dir|s3://...> [--workers N]
  Converts JPEG 2000 dalles (BD ORTHO .jp2, nested folders kept) to Cloud Optimized GeoTIFFs
  with gdal_translate, one queue job per dalle; dalles already converted and unchanged are
  skipped. With REDIS_URL it only enqueues (for \`fleet preparer\` processes); without, it
  starts a private redis-server and N preparers and waits with a progress bar.`;

export const CONSOLE_USAGE = `fleet console [--out <dir|s3://...>] [--port N] [--host H]
  A web console: the runs (REDIS_URL's, live, and the output's run.json), a run's blocks filling
  in, and the published map in the FLAIR palette (legend, hectares per class, class under the
  pointer). On an S3 output the server passes the COGs' bytes to the browser itself.
  Defaults: --port 8080, --host 127.0.0.1; any other host needs FLEET_CONSOLE_TOKEN (browsers
  open it once with ?token=..., scripts send Authorization: Bearer ...), else it exits 2.`;

export const DEMO_USAGE = `fleet demo [--out DIR] [--dalles N] [--dalle-px PX] [--workers N]
  Makes a synthetic landscape (fields, roads, buildings with height, water, forest) as
  RGB/IRC/elevation GeoTIFF dalles and a small demo model, runs the whole pipeline on them
  (private redis-server unless REDIS_URL is set) and prints where the map is.
  Defaults: --out demo-output, --dalles 2 (2x2), --dalle-px 1280, --workers 1.`;

export const SCHEDULE_USAGE = `fleet schedule add <name> --cron "<expr>" [--tz <zone>] <same source/model/out options as fleet enqueue>
fleet schedule list [--json]
fleet schedule remove <name>
  The fleet's schedules (a département is a schedule: fleet schedule add 92 --cron "30 1 * * *"
  --tz Europe/Paris --rgb ... --out ...), kept in REDIS_URL's Redis as BullMQ job schedulers and
  fired by \`fleet scheduler\`. <expr>: 5 cron fields, or 6 with seconds first; default zone UTC.
  add checks the expression and the options (exit 2), not the inputs: each firing does that.
  list: name, cron, zone, next run, last run id and state. Adding an existing name replaces it.`;

export const SCHEDULER_USAGE = `fleet scheduler     fire the schedules until SIGTERM: each firing enqueues its run (as fleet enqueue), follows it to the end
                    (FLEET_SCHEDULE_TIMEOUT_H) and POSTs its summary to FLEET_NOTIFY_URL, on success and on failure`;
