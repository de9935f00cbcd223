import type { FleetQueues } from '@fleet/jobs';
import type { EnqueuedPrepare } from '@fleet/preparer';
import { SingleBar } from 'cli-progress';
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError } from './cli-error';
import { stopChild } from './run-pipeline';

const FLEET_BIN = resolve(__dirname, '..', 'bin', 'fleet.js');

export interface PrepareOutcome {
  converted: number;
  /** Found converted when its job ran (another prepare got there first). */
  skippedByJob: number;
  failed: Array<{ key: string; error: string }>;
}

export interface LocalPreparers {
  workers: number;
  redisUrl: string;
  prefix: string;
  /** Each preparer logs to preparer-N.log here. */
  logDir: string;
}

/**
 * `fleet prepare` without REDIS_URL: N `fleet preparer` processes (exactly what a fleet node
 * runs) sharing the cores, until every enqueued job has completed or failed; then stops them.
 */
export async function convertWithLocalPreparers(queues: FleetQueues, enqueued: EnqueuedPrepare, options: LocalPreparers): Promise<PrepareOutcome> {
  if (enqueued.jobs.length === 0) return { converted: 0, skippedByJob: 0, failed: [] };
  const threads = process.env.FLEET_GDAL_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / options.workers)));
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < options.workers; i++) {
      children.push(
        spawn(process.execPath, [FLEET_BIN, 'preparer'], {
          env: { ...process.env, REDIS_URL: options.redisUrl, FLEET_QUEUE_PREFIX: options.prefix, FLEET_GDAL_THREADS: threads, LOG_FILE: join(options.logDir, `preparer-${i}.log`) },
          stdio: ['ignore', 'ignore', 'pipe'],
        }),
      );
    }
    return await waitForJobs(queues, enqueued, children, options.logDir);
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
  }
}

/** Polls each job's state until all are completed or failed, drawing a progress bar. */
async function waitForJobs(queues: FleetQueues, enqueued: EnqueuedPrepare, children: ChildProcess[], logDir: string): Promise<PrepareOutcome> {
  const childErrors: string[] = [];
  children.forEach((c, i) => c.stderr?.on('data', (d) => childErrors.push(`preparer ${i}: ${String(d).trim()}`)));
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'dalles {bar} {value}/{total} | ETA {eta_formatted}',
    barsize: 30,
    hideCursor: process.stderr.isTTY === true,
    noTTYOutput: true,
    notTTYSchedule: 3000,
  });
  bar.start(enqueued.jobs.length, 0);
  const outcome: PrepareOutcome = { converted: 0, skippedByJob: 0, failed: [] };
  const pending = new Map(enqueued.jobs.map((j) => [j.jobId, j.dalle.sourceKey]));
  try {
    while (pending.size > 0) {
      for (const [jobId, key] of [...pending]) {
        const job = await queues.prepare.getJob(jobId);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'completed') {
          if ((job?.returnvalue as { status?: string } | undefined)?.status === 'skipped') outcome.skippedByJob++;
          else outcome.converted++;
        } else if (state === 'failed') {
          outcome.failed.push({ key, error: job?.failedReason ?? 'unknown error' });
        } else {
          continue;
        }
        pending.delete(jobId);
      }
      bar.update(enqueued.jobs.length - pending.size);
      if (pending.size === 0) break;
      if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
        const why = childErrors.at(-1) ?? `exit codes ${children.map((c) => c.exitCode ?? c.signalCode).join(', ')}`;
        throw new CliError(`all preparers exited before the dalles were converted (${why}); logs in ${logDir}`, 1);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    bar.stop();
  }
  return outcome;
}
