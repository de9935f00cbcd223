import { errorMessage, isPermanent, parsePayload, QUEUES } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { UnrecoverableError, Worker } from 'bullmq';
import type { PreparerEnv } from './env';
import { assertGdalTranslate } from './gdal-translate';
import { prepareDalle, type PrepareResult } from './prepare-dalle';

export interface RunningPreparer {
  readonly worker: Worker;
  /** Stops taking jobs, lets the dalles in hand finish, then releases everything. */
  close(): Promise<void>;
}

/**
 * A preparer process's main loop: a BullMQ worker on the prepare queue converting dalles.
 * Fails at start, before taking a job, when gdal_translate is missing.
 */
export async function startPreparer(redisUrl: string, env: PreparerEnv, log: Logger = createLogger('preparer')): Promise<RunningPreparer> {
  await assertGdalTranslate();
  const connection = createRedisConnection(redisUrl);
  const options = { threads: env.FLEET_GDAL_THREADS, ...(env.FLEET_TMPDIR === undefined ? {} : { tmpDir: env.FLEET_TMPDIR }) };

  const worker = new Worker<unknown, PrepareResult>(
    QUEUES.prepare,
    async (job) => {
      let payload;
      try {
        payload = parsePayload('prepare-dalle', job.data);
      } catch (err) {
        throw new UnrecoverableError(errorMessage(err));
      }
      try {
        return await prepareDalle(payload, options, log);
      } catch (err) {
        const permanent = isPermanent(err);
        log.warn({ source: payload.source, key: payload.sourceKey, attempt: job.attemptsMade + 1, permanent, err: errorMessage(err) }, 'dalle failed');
        if (permanent) throw new UnrecoverableError(errorMessage(err));
        throw err;
      }
    },
    {
      connection,
      prefix: env.FLEET_QUEUE_PREFIX,
      concurrency: env.FLEET_PREPARE_CONCURRENCY,
      lockDuration: env.FLEET_LOCK_MS,
      stalledInterval: env.FLEET_STALLED_MS,
      autorun: true,
    },
  );
  worker.on('error', (err) => log.error({ err: errorMessage(err) }, 'preparer error'));
  log.info({ prefix: env.FLEET_QUEUE_PREFIX, threads: env.FLEET_GDAL_THREADS, concurrency: env.FLEET_PREPARE_CONCURRENCY }, 'preparer started');

  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
