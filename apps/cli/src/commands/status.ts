import { queuePrefix } from '../queue-prefix';
// the narrow entry, not @fleet/jobs's index: no zod, no BullMQ Queue (BENCHMARKS.md, "CLI start")
import { QUEUES, queueJobCounts, RunView, UnreadableRunSpec } from '@fleet/jobs/status-view';
import { createRedisConnection } from '@fleet/redis';
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error';
import { redactUrl, requireRedisUrl } from '../require-redis-url';
import {
  finishedOf,
  formatOneline,
  formatWatchPanel,
  keepSpan,
  newFailureLines,
  RATE_SPAN_MS,
  rateOf,
  watchExitCode,
  type FinishedSample,
  type QueueDepth,
  type StatusSnapshot,
} from '../status-figures';

const USAGE = 'usage: fleet status <run-id> [--oneline] [--watch [--interval S]]';

/** Failure lines printed per refresh at most: a run failing thousands of windows must not flood the terminal. */
const MAX_FAILURE_LINES = 20;

interface StatusOptions {
  runId: string;
  watch: boolean;
  oneline: boolean;
  intervalS: number;
}

function parseStatusArgs(argv: string[]): StatusOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { watch: { type: 'boolean' }, oneline: { type: 'boolean' }, interval: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}: ${USAGE}`);
  }
  const [runId, ...extra] = parsed.positionals;
  if (!runId || extra.length > 0) throw new CliError(USAGE);
  const interval = parsed.values.interval;
  const intervalS = interval === undefined ? 5 : Number(interval);
  if (interval !== undefined && !parsed.values.watch) throw new CliError(`--interval needs --watch: ${USAGE}`);
  if (!Number.isFinite(intervalS) || intervalS < 0.2 || intervalS > 3600) throw new CliError(`--interval ${interval}: expected seconds between 0.2 and 3600`);
  return { runId, watch: parsed.values.watch ?? false, oneline: parsed.values.oneline ?? false, intervalS };
}

/**
 * `fleet status <run>`: by default the run's counters plus windows done/skipped/failed/pending
 * per block and the failed windows' errors as JSON, all read from the run state in Redis, so
 * the answer holds whichever process died. `--oneline`: one line for scripts; `--watch`:
 * refreshed every interval until the run ends.
 */
export async function statusCommand(argv: string[]): Promise<number> {
  const options = parseStatusArgs(argv);
  const url = requireRedisUrl(process.env, 'status');
  // before connecting: a bad REDIS_URL or prefix is refused at once, with no connection left retrying
  const prefix = queuePrefix();
  // a one-shot question: give up after a few reconnects (about 3 s) instead of waiting for
  // ever like the long-lived processes, so an unreachable Redis is an error, not a hang
  const connection = createRedisConnection(url, {
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => (times > 5 ? null : 100 * 2 ** times),
  });
  let lastError = '';
  connection.on('error', (err: Error) => (lastError = err.message));
  const unreachable = (err: Error): never => {
    // a spec that is not one was read, so Redis is reachable: say what is wrong with the run
    if (err instanceof UnreadableRunSpec) throw new CliError(err.message, 1);
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${lastError || err.message}`);
  };
  const state = new RunView(connection, prefix, options.runId);
  try {
    const progress = await state.progress().catch(unreachable);
    if (!progress) throw new CliError(`no run ${options.runId} in this Redis (prefix ${prefix})`, 1);
    if (options.watch) {
      // a Redis that goes away mid-watch ends it (exit 1) with the URL, not ioredis's bare message
      return await watchRun(state, options).catch((err: Error) => {
        if (err instanceof CliError) throw err;
        throw new Error(`lost Redis at ${redactUrl(url)} while watching: ${lastError || err.message}`);
      });
    }
    if (options.oneline) {
      const [snapshot, createdAt] = await Promise.all([takeSnapshot(state), state.createdAt()]);
      // one look has no history: the rate is the mean since the run was created
      const samples: FinishedSample[] = createdAt === undefined ? [] : [{ at: createdAt, finished: 0 }, { at: Date.now(), finished: finishedOf(snapshot) }];
      process.stdout.write(`${formatOneline(snapshot, rateOf(samples))}\n`);
      return 0;
    }
    const [blocks, failures, fatal] = await Promise.all([state.blockProgress(), state.failures(), state.fatalFailures()]);
    const pending = progress.windows - progress.done - progress.skipped - progress.failed;
    // a merge or finalisation that failed for good: the run cannot finish as it stands
    const status = Object.keys(fatal).length > 0 && progress.status !== 'done' ? 'failed' : progress.status;
    process.stdout.write(`${JSON.stringify({ ...progress, status, pending, blockWindows: blocks, failures, runFailures: fatal })}\n`);
    return 0;
  } finally {
    connection.disconnect();
  }
}

/**
 * One queue's depth, all runs together: BullMQ's counts as Queue.getJobCounts gives them
 * (queueJobCounts reads the same keys with plain commands), wait including prioritized and paused jobs.
 */
async function depthOf(state: RunView, queue: string): Promise<QueueDepth> {
  const c = await queueJobCounts(state.redis, state.prefix, queue);
  return { wait: c.wait + c.prioritized + c.paused, active: c.active, delayed: c.delayed, failed: c.failed };
}

/**
 * One look at the run in a constant number of Redis commands, whatever its size (BITCOUNTs,
 * SCARD, the small hash of what failed for good, one MULTI of length reads per queue): no per-window scan.
 */
async function takeSnapshot(state: RunView): Promise<StatusSnapshot & { runFailures: Record<string, string> }> {
  const [progress, runFailures, infer, merge] = await Promise.all([state.progress(), state.fatalFailures(), depthOf(state, QUEUES.infer), depthOf(state, QUEUES.merge)]);
  if (!progress) throw new CliError(`run ${state.runId} is gone from Redis (expired or removed)`, 1);
  const status = Object.keys(runFailures).length > 0 && progress.status !== 'done' ? 'failed' : progress.status;
  return { ...progress, status, queues: { infer, merge }, runFailures };
}

/**
 * `--watch`: every interval, the panel redrawn in place on a terminal, or one status line
 * appended elsewhere (logs, CI), with new failures printed above as they happen. Ends with
 * watchExitCode when the run ends; SIGINT 130, SIGTERM 143 (the run itself goes on).
 */
async function watchRun(state: RunView, options: StatusOptions): Promise<number> {
  const out = process.stdout;
  const tty = out.isTTY === true && !options.oneline;
  let stopped: number | undefined;
  let wake = (): void => {};
  const onSigint = () => ((stopped = 130), wake());
  const onSigterm = () => ((stopped = 143), wake());
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let samples: FinishedSample[] = [];
  const seen = new Set<string>();
  let failedSeen = -1;
  let windowFailures: Record<string, string> = {};
  let panelLines = 0;
  try {
    for (;;) {
      const snapshot = await takeSnapshot(state);
      samples = keepSpan([...samples, { at: Date.now(), finished: finishedOf(snapshot) }], RATE_SPAN_MS);
      const rate = rateOf(samples);
      // the failed windows' messages are read only when their count moved (HGETALL costs one
      // field per failed window; the count is a BITCOUNT)
      if (snapshot.failed !== failedSeen) {
        failedSeen = snapshot.failed;
        windowFailures = await state.failures();
      }
      const fresh = newFailureLines(seen, windowFailures, snapshot.runFailures);
      const shown = fresh.length > MAX_FAILURE_LINES ? [...fresh.slice(0, MAX_FAILURE_LINES), `... and ${fresh.length - MAX_FAILURE_LINES} more failures (fleet status ${state.runId} lists them all)`] : fresh;
      let text = '';
      if (tty && panelLines > 0) text += `\x1b[${panelLines}F\x1b[0J`; // back to the panel's first line, erase to the end
      for (const line of shown) text += `${line}\n`;
      if (tty) {
        const panel = formatWatchPanel(snapshot, rate, RATE_SPAN_MS, options.intervalS);
        panelLines = panel.length;
        text += `${panel.join('\n')}\n`;
      } else {
        text += `${formatOneline(snapshot, rate)}\n`;
      }
      out.write(text);
      const code = watchExitCode(snapshot);
      if (code !== undefined) return code;
      if (stopped !== undefined) return stopped;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalS * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped !== undefined) return stopped;
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
