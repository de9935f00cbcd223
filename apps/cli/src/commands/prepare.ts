import { FleetQueues } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { assertGdalTranslate, enqueuePrepare, listDalles, type DalleSource, type EnqueuedPrepare } from '@fleet/preparer';
import { createRedisConnection } from '@fleet/redis';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error';
import { mayBeTransient } from '../plan-for-cli';
import { convertWithLocalPreparers } from '../prepare-pipeline';
import { queuePrefix } from '../queue-prefix';
import { redisForRun } from '../redis-for-cli';
import { intOption, joinNegativeValues } from '../run-args';
import { PREPARE_USAGE } from '../usage';

export async function prepareCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, { src: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } }),
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
    const outcome = await convertWithLocalPreparers(queues, enqueued, { workers, redisUrl: redis.url, prefix, logDir });
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
    await queues.close();
    connection.disconnect();
    await Promise.all([redis.stop(), listed.store.close()]);
  }
}
