import { errorMessage, FleetQueues, isPermanent, QUEUES, startConsumer } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { sharedTileCache } from '@fleet/raster';
import { createRedisConnection } from '@fleet/redis';
import type { Worker } from 'bullmq';
import type { WorkerEnv } from './env';
import { ModelEngines } from './model-engines';
import { RunContexts } from './run-context';
import { WindowProcessor } from './window-processor';

export interface RunningWorker {
  readonly worker: Worker;
  /** Stops taking jobs, lets the jobs in hand finish, then releases everything. */
  close(): Promise<void>;
}

/**
 * A worker process's main loop: a BullMQ worker on the infer queue whose concurrency keeps
 * enough windows in hand to fill the next batch while the current one runs; the inference
 * engine gathers them into batches (BullMQ OSS has no batch API).
 */
export async function startWorker(redisUrl: string, env: WorkerEnv, log: Logger = createLogger('worker')): Promise<RunningWorker> {
  const connection = createRedisConnection(redisUrl);
  // BullMQ never closes connections it is given: both are disconnected in close()
  const workerConnection = createRedisConnection(redisUrl);
  sharedTileCache.resize(env.FLEET_TILE_CACHE_MB * 1024 * 1024);
  const queues = new FleetQueues(connection, env.FLEET_QUEUE_PREFIX);
  const contexts = new RunContexts(connection, env.FLEET_QUEUE_PREFIX);
  const engines = new ModelEngines({
    provider: env.FLEET_PROVIDER,
    batchSize: env.FLEET_BATCH_SIZE,
    intraOpThreads: env.FLEET_THREADS,
    warmup: env.FLEET_WARMUP,
    onWarning: (msg) => log.warn(msg),
  });
  const processor = new WindowProcessor(contexts, engines, queues, log);

  const consumer = startConsumer(
    QUEUES.infer,
    {
      'infer-window': async (payload, job) => {
        try {
          return await processor.process(payload);
        } catch (err) {
          const permanent = isPermanent(err);
          const lastAttempt = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          log.warn({ runId: payload.runId, windowId: payload.window.id, attempt: job.attemptsMade + 1, permanent, err: errorMessage(err) }, 'window failed');
          if (lastAttempt) {
            // recorded while the job still holds its lock: if this process dies here the job
            // stalls and is retried, so a failure is never lost between BullMQ and the run state
            await processor.complete(payload, 'failed', {}, errorMessage(err));
          }
          throw err;
        }
      },
    },
    {
      connection: workerConnection,
      prefix: env.FLEET_QUEUE_PREFIX,
      log,
      concurrency: env.FLEET_CONCURRENCY ?? env.FLEET_BATCH_SIZE * 2,
      lockDuration: env.FLEET_LOCK_MS,
      stalledInterval: env.FLEET_STALLED_MS,
    },
  );
  const worker = consumer.worker;
  log.info({ provider: env.FLEET_PROVIDER, batchSize: env.FLEET_BATCH_SIZE, prefix: env.FLEET_QUEUE_PREFIX }, 'worker started');

  return {
    worker,
    async close() {
      await consumer.close();
      await Promise.all([contexts.close(), engines.close(), queues.close()]);
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
