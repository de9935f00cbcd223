import { errorMessage, isPermanent, QUEUES, startConsumer } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { consumerProblems, PreparerMetrics, registerQueueMetrics, startProcessOps } from '@fleet/metrics';
import { createRedisConnection } from '@fleet/redis';
import { Queue, type Worker } from 'bullmq';
import type { PreparerEnv } from './env';
import { assertGdalTranslate } from './gdal-translate';
import { prepareDalle, type PrepareResult } from './prepare-dalle';

export interface RunningPreparer {
  readonly worker: Worker;
  /** Port of the /metrics, /livez, /readyz server; undefined when FLEET_METRICS_PORT is 0. */
  readonly metricsPort: number | undefined;
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
  let consumer: ReturnType<typeof startConsumer> | undefined;
  const ops = await startProcessOps({ component: 'preparer', env, redis: connection, ready: () => consumerProblems(consumer?.worker) }).catch((err: unknown) => {
    connection.disconnect();
    throw err;
  });
  const metrics = new PreparerMetrics(ops.registry);
  // the prepare queue's counts only: the preparer holds no FleetQueues
  const queue = new Queue(QUEUES.prepare, { connection, prefix: env.FLEET_QUEUE_PREFIX });
  registerQueueMetrics(ops.registry, [queue]);
  const options = { threads: env.FLEET_GDAL_THREADS, ...(env.FLEET_TMPDIR === undefined ? {} : { tmpDir: env.FLEET_TMPDIR }) };

  consumer = startConsumer(
    QUEUES.prepare,
    {
      'prepare-dalle': async (payload, job): Promise<PrepareResult> => {
        try {
          const result = await prepareDalle(payload, options, log);
          metrics.dalles.inc({ outcome: 'done' });
          return result;
        } catch (err) {
          metrics.dalles.inc({ outcome: 'failed' });
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
  const running = consumer;
  log.info({ prefix: env.FLEET_QUEUE_PREFIX, ...(ops.port === undefined ? {} : { metricsPort: ops.port }), threads: env.FLEET_GDAL_THREADS, concurrency: env.FLEET_PREPARE_CONCURRENCY }, 'preparer started');

  return {
    worker,
    metricsPort: ops.port,
    async close() {
      await running.close();
      await Promise.all([queue.close(), ops.close()]);
      connection.disconnect();
    },
  };
}
