import { errorMessage, isPermanent, QUEUES, startConsumer } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import type { Worker } from 'bullmq';
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

  const consumer = startConsumer(
    QUEUES.prepare,
    {
      'prepare-dalle': async (payload, job): Promise<PrepareResult> => {
        try {
          return await prepareDalle(payload, options, log);
        } catch (err) {
          log.warn({ source: payload.source, key: payload.sourceKey, attempt: job.attemptsMade + 1, permanent: isPermanent(err), err: errorMessage(err) }, 'dalle failed');
          throw err;
        }
      },
    },
    {
      connection,
      prefix: env.FLEET_QUEUE_PREFIX,
      log,
      concurrency: env.FLEET_PREPARE_CONCURRENCY,
      lockDuration: env.FLEET_LOCK_MS,
      stalledInterval: env.FLEET_STALLED_MS,
    },
  );
  const worker = consumer.worker;
  log.info({ prefix: env.FLEET_QUEUE_PREFIX, threads: env.FLEET_GDAL_THREADS, concurrency: env.FLEET_PREPARE_CONCURRENCY }, 'preparer started');

  return {
    worker,
    async close() {
      await consumer.close();
      connection.disconnect();
    },
  };
}
