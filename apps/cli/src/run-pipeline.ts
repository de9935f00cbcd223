import { enqueueRun, preflightRun, type EnqueueResult, type RunRequest } from '@fleet/coordinator';
import { FleetQueues, RunState, type RunProgress } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { parseMergerEnv, startMerger, type RunReport } from '@fleet/merger';
import { createRedisConnection } from '@fleet/redis';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError } from './cli-error';
import { planForCli } from './plan-for-cli';
import { queuePrefix } from './queue-prefix';
import { redisForRun } from './redis-for-cli';

const FLEET_BIN = resolve(__dirname, '..', 'bin', 'fleet.js');

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
 * `fleet run` in one call: Redis (REDIS_URL or a private server), the coordinator's plan and
 * enqueue in this process, N worker processes (`fleet worker`, exactly what a fleet node
 * runs) and the merger in this process; waits for the run report, then stops what it started.
 */
export async function runPipeline(request: RunRequest, options: PipelineOptions): Promise<PipelineResult> {
  const note = options.note ?? (() => {});
  // before any folder (the log dir is named after the run id), key or job exists
  await preflightRun(request, { env: options.env, redisUrl: options.env.REDIS_URL, warn: note });
  const planned = await planForCli(request);
  const runId = planned.spec.runId;
  const logDir = join(tmpdir(), 'fleet-logs', runId);
  mkdirSync(logDir, { recursive: true });
  process.env.LOG_FILE ??= join(logDir, 'coordinator-merger.log');
  const log = createLogger('cli');

  const redis = await redisForRun(options.env, note);
  const prefix = queuePrefix(options.env);
  const connection = createRedisConnection(redis.url);
  const queues = new FleetQueues(connection, prefix);
  const children: ChildProcess[] = [];
  let merger: Awaited<ReturnType<typeof startMerger>> | undefined;
  try {
    const enqueue = await enqueueRun(connection, queues, planned.spec, planned.windowsPerBlock, log);
    merger = await startMerger(redis.url, parseMergerEnv({ ...options.env, FLEET_QUEUE_PREFIX: prefix }));
    const threads = options.env.FLEET_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / options.workers)));
    for (let i = 0; i < options.workers; i++) {
      children.push(
        spawn(process.execPath, [FLEET_BIN, 'worker'], {
          env: { ...options.env, REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: prefix, FLEET_THREADS: threads, LOG_FILE: join(logDir, `worker-${i}.log`) },
          stdio: ['ignore', 'ignore', 'pipe'],
        }),
      );
    }
    const childErrors: string[] = [];
    children.forEach((c, i) => c.stderr?.on('data', (d) => childErrors.push(`worker ${i}: ${String(d).trim()}`)));

    const state = new RunState(connection, prefix, enqueue.runId);
    for (;;) {
      const progress = await state.progress();
      if (progress) options.onProgress?.(progress);
      if (progress?.status === 'done') break;
      if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
        const why = childErrors.at(-1) ?? `exit codes ${children.map((c) => c.exitCode ?? c.signalCode).join(', ')}`;
        throw new CliError(`all workers exited before the run finished (${why}); logs in ${logDir}`, 1);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const report = (await state.report()) as RunReport;
    return { runId: enqueue.runId, enqueue, report, logDir };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await merger?.close();
    await queues.close();
    connection.disconnect();
    await redis.stop();
  }
}

/** SIGTERM (graceful: the worker finishes what it holds), then SIGKILL after 30 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}
