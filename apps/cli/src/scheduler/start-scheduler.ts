import { FleetQueues, FleetSchedules, QUEUES, startConsumer, type QueueHandlers } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { fireSchedule } from './fire-schedule';
import type { SchedulerEnv } from './scheduler-env';

export interface RunningScheduler {
  close(): Promise<void>;
}

/**
 * `fleet scheduler`: a consumer of the schedule queue, where BullMQ's job schedulers put each
 * firing of `fleet schedule add`'s schedules. Each firing is held until its run ends (see
 * fireSchedule), FLEET_SCHEDULER_CONCURRENCY of them at once. close() stops taking firings
 * and hands those in hand back to the queue, so the next scheduler follows their runs on.
 */
export async function startScheduler(redisUrl: string, env: SchedulerEnv, log: Logger = createLogger('scheduler')): Promise<RunningScheduler> {
  const connection = createRedisConnection(redisUrl);
  // BullMQ's worker blocks its own connection; both are disconnected in close()
  const workerConnection = createRedisConnection(redisUrl);
  const queues = new FleetQueues(connection, env.FLEET_QUEUE_PREFIX);
  const schedules = new FleetSchedules(connection, connection, env.FLEET_QUEUE_PREFIX);
  const stopping = new AbortController();
  const context = { redis: connection, redisUrl, queues, schedules, env, processEnv: process.env, signal: stopping.signal, log };
  const handlers: QueueHandlers<typeof QUEUES.schedule> = {
    'run-schedule': (firing, job) => fireSchedule(firing, job, context),
  };
  const consumer = startConsumer(QUEUES.schedule, handlers, {
    connection: workerConnection,
    prefix: env.FLEET_QUEUE_PREFIX,
    log,
    concurrency: env.FLEET_SCHEDULER_CONCURRENCY,
  });
  log.info({ concurrency: env.FLEET_SCHEDULER_CONCURRENCY, notify: env.FLEET_NOTIFY_URL ? new URL(env.FLEET_NOTIFY_URL).origin : null, timeoutH: env.FLEET_SCHEDULE_TIMEOUT_H }, 'scheduler started');
  return {
    async close() {
      stopping.abort();
      await consumer.close();
      await Promise.all([schedules.close(), queues.close()]);
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
