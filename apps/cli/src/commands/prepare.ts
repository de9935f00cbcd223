import { FleetQueues } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { assertGdalTranslate, enqueuePrepare, listDalles, type DalleSource, type EnqueuedPrepare } from '@fleet/preparer';
import { createRedisConnection } from '@fleet/redis';
import { SingleBar } from 'cli-progress';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error';
import { mayBeTransient } from '../plan-for-cli';
import { queuePrefix } from '../queue-prefix';
import { redisForRun } from '../redis-for-cli';
import { intOption } from '../run-args';

export const PREPARE_USAGE = `fleet prepare --src <file.jp2|dir|s3://...> --out <dir|s3://...> [--workers N]
  Converts JPEG 2000 dalles (BD ORTHO .jp2, nested folders kept) to Cloud Optimized GeoTIFFs
  with gdal_translate, one queue job per dalle; dalles already converted and unchanged are
  skipped. With REDIS_URL it only enqueues (for \`fleet preparer\` processes); without, it
  starts a private redis-server and N preparers and waits with a progress bar.`;

const FLEET_BIN = resolve(__dirname, '..', '..', 'bin', 'fleet.js');

interface Outcome {
  converted: number;
  /** Found converted when its job ran (another prepare got there first). */
  skippedByJob: number;
  failed: Array<{ key: string; error: string }>;
}

export async function prepareCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { src: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${PREPARE_USAGE}\n`);
    return 0;
  }
  if (!v.src) throw new CliError('--src <file.jp2|dir|s3://...> is required');
  if (!v.out) throw new CliError('--out <dir|s3://...> is required');
  const workers = intOption('workers', v.workers, 1) ?? 1;
  const enqueueOnly = Boolean(process.env.REDIS_URL);
  // checked here too, so a machine without GDAL fails in one line before starting anything
  if (!enqueueOnly) await assertGdalTranslate().catch((err: Error) => Promise.reject(new CliError(err.message, 1)));

  const prefix = queuePrefix();
  // listed before Redis is touched, so a wrong --src fails at once as an input problem
  let listed: DalleSource;
  try {
    listed = await listDalles(v.src);
  } catch (err) {
    if (mayBeTransient(err)) throw err;
    throw new CliError(err instanceof Error ? err.message : String(err), 2);
  }
  const logDir = join(tmpdir(), 'fleet-logs', `prepare-${Date.now()}`);
  if (!enqueueOnly) {
    // JSON logs go to files while the progress bar owns the terminal
    mkdirSync(logDir, { recursive: true });
    process.env.LOG_FILE ??= join(logDir, 'prepare.log');
  }
  const note = (m: string) => process.stderr.write(`${m}\n`);
  let redis;
  try {
    redis = await redisForRun(process.env, note);
  } catch (err) {
    await listed.store.close();
    throw err;
  }
  const connection = createRedisConnection(redis.url);
  const queues = new FleetQueues(connection, prefix);
  const children: ChildProcess[] = [];
  try {
    let enqueued: EnqueuedPrepare;
    try {
      enqueued = await enqueuePrepare(queues, listed, v.out, createLogger('prepare'));
    } catch (err) {
      if (mayBeTransient(err)) throw err;
      throw new CliError(err instanceof Error ? err.message : String(err), 2);
    }
    if (enqueueOnly) {
      process.stdout.write(`${JSON.stringify({ dalles: enqueued.total, skipped: enqueued.skipped.length, enqueued: enqueued.jobs.length })}\n`);
      return 0;
    }
    let outcome: Outcome = { converted: 0, skippedByJob: 0, failed: [] };
    if (enqueued.jobs.length > 0) {
      const threads = process.env.FLEET_GDAL_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / workers)));
      for (let i = 0; i < workers; i++) {
        children.push(
          spawn(process.execPath, [FLEET_BIN, 'preparer'], {
            env: { ...process.env, REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: prefix, FLEET_GDAL_THREADS: threads, LOG_FILE: join(logDir, `preparer-${i}.log`) },
            stdio: ['ignore', 'ignore', 'pipe'],
          }),
        );
      }
      outcome = await waitForJobs(queues, enqueued, children, logDir);
    }
    const skipped = enqueued.skipped.length + outcome.skippedByJob;
    process.stdout.write(
      `${enqueued.total} dalle(s): ${outcome.converted} converted, ${skipped} already prepared (skipped), ${outcome.failed.length} failed\n` +
        `COGs:   ${enqueued.output}\n`,
    );
    if (outcome.failed.length > 0) {
      for (const f of outcome.failed) process.stdout.write(`failed: ${f.key}: ${f.error}\n`);
      throw new CliError(`${outcome.failed.length} dalle(s) failed: ${outcome.failed.map((f) => f.key).join(', ')}`, 1);
    }
    return 0;
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await queues.close();
    connection.disconnect();
    await Promise.all([redis.stop(), listed.store.close()]);
  }
}

/** Polls each job's state until all are completed or failed, drawing a progress bar. */
async function waitForJobs(queues: FleetQueues, enqueued: EnqueuedPrepare, children: ChildProcess[], logDir: string): Promise<Outcome> {
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
  const outcome: Outcome = { converted: 0, skippedByJob: 0, failed: [] };
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

/** SIGTERM (graceful: the preparer finishes its dalle), then SIGKILL after 30 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}
