import { enqueueRun, preflightRun, type EnqueueResult, type RunRequest } from '@fleet/coordinator';
import { clearRunFailures, FleetQueues, jobIds, RunState, runFatalFailures, type RunProgress } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { parseMergerEnv, startMerger, type RunReport } from '@fleet/merger';
import { createRedisConnection } from '@fleet/redis';
import { LEASE_KEY, LeaseHeldError, openStore, OutputLease } from '@fleet/storage';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './cli-error';
import { planForCli } from './plan-for-cli';
import { lookAtPublished, refreshOfPublished } from './refresh-run';
import { stillPublishedNote, type UnchangedRun } from './published-run';
import { queuePrefix } from './queue-prefix';
import { privateStateDir, redactUrl, redisForRun, type CliRedis } from './redis-for-cli';
import { parseRunEnv } from './run-env';
import { workerMetricsEnv } from './worker-metrics-port';

const FLEET_BIN = resolve(__dirname, '..', 'bin', 'fleet.js');

/** How long a worker may take to finish its jobs after SIGTERM before it gets SIGKILL. */
export const WORKER_STOP_MS = 30_000;
/** How long the in-process merger may take to finish a merge when the run stops. */
export const MERGER_STOP_MS = 30_000;
/** How often the queues' job counts are read for the stall check. */
const STALL_CHECK_MS = 2_000;

export interface PipelineOptions {
  workers: number;
  env: NodeJS.ProcessEnv;
  onProgress?: (p: RunProgress) => void;
  note?: (msg: string) => void;
}

export interface PipelineResult {
  runId: string;
  enqueue: EnqueueResult;
  report: RunReport;
  logDir: string;
}

/**
 * `fleet run` in one call: the output's lease (one writer per output), Redis (REDIS_URL or
 * a private server whose state lives with the output, so the same command resumes), the
 * coordinator's plan and enqueue in this process, N worker processes (`fleet worker`,
 * exactly what a fleet node runs) and the merger in this process; waits for the run report,
 * then stops what it started. Never waits for ever: a block or finalisation that failed for
 * good, all workers gone, or no progress and no active job for FLEET_RUN_STALL_S end it with
 * exit 1; SIGINT/SIGTERM stop it cleanly (exit 130/143) with what was done.
 */
export async function runPipeline(request: RunRequest, options: PipelineOptions): Promise<PipelineResult | UnchangedRun> {
  const note = options.note ?? (() => {});
  const runEnv = parseRunEnv(options.env);
  // SIGINT/SIGTERM from here on: stop taking work and shut down in order (a second signal
  // kills the workers at once). Checked between the steps and on every poll.
  let stopSignal: NodeJS.Signals | undefined;
  let wake: () => void = () => {};
  const children: ChildProcess[] = [];
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) {
      note(`${signal} again: killing the workers`);
      for (const c of children) c.kill('SIGKILL');
      return;
    }
    stopSignal = signal;
    note(`${signal}: stopping (workers finish the windows in hand; ${signal} again to kill them)`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // the last resort if this process dies of an error: no worker or redis-server outlives it
  let redis: CliRedis | undefined;
  const onExit = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (redis?.pid !== undefined) killQuietly(redis.pid);
  };
  process.on('exit', onExit);

  const interrupted = (what: string): CliError =>
    new CliError(`interrupted by ${stopSignal} ${what}`, stopSignal === 'SIGINT' ? 130 : 143);
  let lease: OutputLease | undefined;
  let leaseLost: string | undefined;
  let store: ReturnType<typeof openStore> | undefined;
  try {
    // before any folder (the log dir is named after the run id), lease, key or job exists
    await preflightRun(request, { env: options.env, redisUrl: options.env.REDIS_URL, warn: note });
    if (stopSignal) throw interrupted('while checking: nothing started');
    let planned = await planForCli(request);
    store = openStore(planned.spec.output);
    const runId = planned.spec.runId;
    if (stopSignal) throw interrupted('while planning: nothing started');
    // a night where no dalle, nor the model, nor the geometry changed: the published map is
    // already this run's, so nothing is started, inferred or rewritten (no lease, no Redis)
    const look = await lookAtPublished(store, planned, request.runId !== undefined);
    if (look.unchanged) return look.unchanged;
    const logDir = join(tmpdir(), 'fleet-logs', runId);
    mkdirSync(logDir, { recursive: true });
    process.env.LOG_FILE ??= join(logDir, 'coordinator-merger.log');
    const log = createLogger('cli');
    planned = await refreshOfPublished(store, look.published, planned, log);

    try {
      lease = await OutputLease.acquire(store, {
        runId,
        onLost: (why) => {
          leaseLost = why;
          wake();
        },
        onRenewError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'output lease not renewed'),
      });
    } catch (err) {
      if (err instanceof LeaseHeldError) throw new CliError(`refused: ${err.message}`, 2);
      throw err;
    }
    const stateDir = options.env.REDIS_URL ? undefined : privateStateDir(planned.spec.output, options.env);
    redis = await redisForRun(options.env, note, stateDir);
    const where = redis.stateDir ? `in ${redis.stateDir}` : `in Redis at ${redactUrl(redis.url)}`;
    // a night that fails (a block or the finalisation failed for good) publishes nothing: say which map stays
    const outcome = await drive(redis, runId, planned, logDir, log).catch((err: unknown) => {
      throw err instanceof CliError && err.exitCode === 1 ? new CliError(`${err.message}; ${stillPublishedNote(look.published)}`, 1) : err;
    });
    if (outcome.done && redis.stateDir) {
      // the run is finished and run.json has everything: the private state goes (see README)
      await redis.stop();
      rmSync(redis.stateDir, { recursive: true, force: true });
      removeIfEmpty(dirname(redis.stateDir)); // the flair-fleet folder of an S3 output's state
    }
    if (outcome.stopped !== undefined) throw interrupted(`${outcome.stopped}; progress is kept ${where}: run the same command to resume (logs in ${logDir})`);
    return outcome.result!;
  } finally {
    await redis?.stop();
    if (lease) {
      await lease.release().catch((err: unknown) => note(`could not release the output lease: ${err instanceof Error ? err.message : String(err)}`));
      const leaseFolder = store?.localPath(LEASE_KEY);
      if (leaseFolder) removeIfEmpty(dirname(leaseFolder));
    }
    await store?.close();
    // kept until now: a signal during the clean-up must not kill this process half-way
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }

  /** Enqueue, workers, merger, the wait; stops what it started. */
  async function drive(
    redis: CliRedis,
    runId: string,
    planned: Awaited<ReturnType<typeof planForCli>>,
    logDir: string,
    log: ReturnType<typeof createLogger>,
  ): Promise<{ result?: PipelineResult; stopped?: string; done: boolean }> {
    const prefix = queuePrefix(options.env);
    const connection = createRedisConnection(redis.url);
    const queues = new FleetQueues(connection, prefix);
    let merger: Awaited<ReturnType<typeof startMerger>> | undefined;
    let enqueue: EnqueueResult | undefined;
    const state = new RunState(connection, prefix, runId);
    try {
      if (stopSignal) return { stopped: 'before anything was enqueued', done: false };
      enqueue = await enqueueRun(connection, queues, planned.spec, planned.windowsPerBlock, log);
      if (enqueue.alreadyDone > 0) note(`resuming run ${runId}: ${enqueue.alreadyDone} window(s) already done, ${enqueue.submitted} to do`);
      await retryFailedForGood(connection, queues, prefix, runId);
      if (stopSignal) return { stopped: await stoppedAt(state, enqueue), done: false };
      merger = await startMerger(redis.url, parseMergerEnv({ ...options.env, FLEET_QUEUE_PREFIX: prefix }));
      const threads = options.env.FLEET_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / options.workers)));
      for (let i = 0; i < options.workers; i++) {
        children.push(
          spawn(process.execPath, [FLEET_BIN, 'worker'], {
            env: { ...options.env, REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: prefix, FLEET_THREADS: threads, LOG_FILE: join(logDir, `worker-${i}.log`), ...workerMetricsEnv(options.env.FLEET_METRICS_PORT, i, options.workers) },
            stdio: ['ignore', 'ignore', 'pipe'],
            // own process group: a terminal's Ctrl-C reaches only this process, which stops
            // the workers gracefully and in order (before the Redis they write to)
            detached: true,
          }),
        );
      }
      const childErrors: string[] = [];
      children.forEach((c, i) => c.stderr?.on('data', (d) => childErrors.push(`worker ${i}: ${String(d).trim()}`)));

      let lastChange = Date.now();
      let lastSeen = '';
      let lastCountsAt = 0;
      for (;;) {
        if (stopSignal) break;
        if (leaseLost) throw new CliError(`stopped: ${leaseLost}; this run no longer owns ${planned.spec.output} (logs in ${logDir})`, 1);
        const progress = await state.progress();
        if (progress) options.onProgress?.(progress);
        if (progress?.status === 'done') break;
        const fatal = Object.entries(await runFatalFailures(connection, prefix, runId));
        if (fatal.length > 0) {
          const [what, message] = fatal[0]!;
          throw new CliError(`${what} failed for good: ${message}${fatal.length > 1 ? ` (and ${fatal.length - 1} more)` : ''}; logs in ${logDir}`, 1);
        }
        if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
          const why = childErrors.at(-1) ?? `exit codes ${children.map((c) => c.exitCode ?? c.signalCode).join(', ')}`;
          throw new CliError(`all workers exited before the run finished (${why}); logs in ${logDir}`, 1);
        }
        const seen = progress ? `${progress.done}/${progress.skipped}/${progress.failed}/${progress.blocksMerged}/${progress.status}` : '';
        if (seen !== lastSeen) {
          lastSeen = seen;
          lastChange = Date.now();
        } else if (Date.now() - lastCountsAt >= STALL_CHECK_MS) {
          lastCountsAt = Date.now();
          const [infer, merge] = await Promise.all([jobCounts(queues.infer), jobCounts(queues.merge)]);
          if (infer.active + merge.active > 0) lastChange = Date.now();
          else if (Date.now() - lastChange > runEnv.FLEET_RUN_STALL_S * 1000) {
            throw new CliError(`${await stallReport(state, queues, progress, infer, merge, runEnv.FLEET_RUN_STALL_S)}; logs in ${logDir}`, 1);
          }
        }
        await new Promise<void>((r) => {
          const timer = setTimeout(r, 250);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
      }
      if (stopSignal) {
        // stop taking work, let what is in hand finish, then say where the run stands
        await Promise.all(children.map((c) => stopChild(c)));
        await closeMerger(merger);
        merger = undefined;
        return { stopped: await stoppedAt(state, enqueue), done: false };
      }
      const report = (await state.report()) as RunReport;
      return { result: { runId: enqueue.runId, enqueue, report, logDir }, done: true };
    } finally {
      await Promise.all(children.map((c) => stopChild(c)));
      await closeMerger(merger);
      await queues.close();
      connection.disconnect();
    }
  }
}

/** "after 12/25 windows (5 before this command), 1/4 blocks merged" */
async function stoppedAt(state: RunState, enqueue: EnqueueResult): Promise<string> {
  const p = await state.progress();
  if (!p) return 'before the run was recorded';
  const finished = p.done + p.skipped + p.failed;
  return `after ${finished}/${p.windows} windows done (${enqueue.alreadyDone} before this command), ${p.blocksMerged}/${p.blocks} blocks merged`;
}

interface Counts {
  wait: number;
  active: number;
  delayed: number;
  failed: number;
}

async function jobCounts(queue: FleetQueues['infer']): Promise<Counts> {
  const c = await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized', 'paused');
  return { wait: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
}

/** One line: what is pending, the queues' counts, the last failures. */
async function stallReport(state: RunState, queues: FleetQueues, p: RunProgress | undefined, infer: Counts, merge: Counts, stallS: number): Promise<string> {
  const fmt = (c: Counts) => `wait ${c.wait}, active ${c.active}, delayed ${c.delayed}, failed ${c.failed}`;
  const pending = p ? p.windows - p.done - p.skipped - p.failed : '?';
  const windowFailures = Object.entries(await state.failures()).slice(-2).map(([w, e]) => `window ${w}: ${e}`);
  const mergeFailures = (await queues.merge.getFailed(0, 1)).map((j) => `${j.name} ${j.id}: ${j.failedReason}`);
  const last = [...mergeFailures, ...windowFailures];
  return (
    `no progress for ${stallS} s and no job active (FLEET_RUN_STALL_S): ${pending} window(s) pending, ${p?.blocksMerged ?? '?'}/${p?.blocks ?? '?'} blocks merged; ` +
    `windows queue ${fmt(infer)}; merge queue ${fmt(merge)}` +
    (last.length > 0 ? `; last failures: ${last.join(' | ')}` : '; no failure recorded (are workers reaching the queue?)')
  );
}

/**
 * A merge or finalisation of this run that failed for good in an earlier attempt (its error
 * recorded by the merger) is tried again: a new `fleet run` is the user's "I fixed it".
 */
async function retryFailedForGood(connection: ReturnType<typeof createRedisConnection>, queues: FleetQueues, prefix: string, runId: string): Promise<void> {
  const fatal = Object.keys(await runFatalFailures(connection, prefix, runId));
  if (fatal.length === 0) return;
  await clearRunFailures(connection, prefix, runId);
  for (const what of fatal) {
    const id = what === 'finalize' ? jobIds.finalize(runId) : what.startsWith('block ') ? jobIds.block(runId, what.slice('block '.length)) : undefined;
    const job = id === undefined ? undefined : await queues.merge.getJob(id);
    if (job && (await job.isFailed())) await job.retry('failed');
  }
}

async function closeMerger(merger: Awaited<ReturnType<typeof startMerger>> | undefined): Promise<void> {
  if (!merger) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), MERGER_STOP_MS)));
  // a merge still running after MERGER_STOP_MS is abandoned: its lock expires and the next
  // run's merger does it again (the block record makes a redone merge harmless)
  if ((await Promise.race([merger.close(), late])) === 'late') await merger.worker.close(true).catch(() => {});
  clearTimeout(timer);
}

/** SIGTERM (graceful: the worker finishes what it holds), then SIGKILL after WORKER_STOP_MS. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_MS);
  await exited;
  clearTimeout(timer);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function removeIfEmpty(folder: string): void {
  try {
    rmdirSync(folder);
  } catch {
    // not empty (the private Redis's state is there) or already gone
  }
}
