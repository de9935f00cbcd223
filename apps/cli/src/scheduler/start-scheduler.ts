import { FleetQueues, FleetSchedules, QUEUES, startConsumer, type QueueHandlers } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { consumerProblems, registerQueueMetrics, SchedulerMetrics, startProcessOps } from '@fleet/metrics';
import { createRedisConnection } from '@fleet/redis';
import { fireSchedule } from './fire-schedule';
import type { SchedulerEnv } from './scheduler-env';

export interface RunningScheduler {
  /** Port of the /metrics, /livez, /readyz server; undefined when FLEET_METRICS_PORT is 0. */
  readonly metricsPort: number | undefined;
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
  let consumer: ReturnType<typeof startConsumer> | undefined;
  const ops = await startProcessOps({ component: 'scheduler', env, redis: connection, ready: () => consumerProblems(consumer?.worker) }).catch((err: unknown) => {
    connection.disconnect();
    workerConnection.disconnect();
    throw err;
  });
  const metrics = new SchedulerMetrics(ops.registry);
  const queues = new FleetQueues(connection, env.FLEET_QUEUE_PREFIX);
  const schedules = new FleetSchedules(connection, connection, env.FLEET_QUEUE_PREFIX);
  const stopping = new AbortController();
  const context = { redis: connection, redisUrl, queues, schedules, env, processEnv: process.env, signal: stopping.signal, log };
  const handlers: QueueHandlers<typeof QUEUES.schedule> = {
    'run-schedule': async (firing, job) => {
      const result = await fireSchedule(firing, job, context);
      metrics.firings.inc({ schedule: firing.schedule, outcome: 'skipped' in result ? 'skipped' : result.state });
      return result;
    },
  };
  consumer = startConsumer(QUEUES.schedule, handlers, {
    connection: workerConnection,
    prefix: env.FLEET_QUEUE_PREFIX,
    log,
    concurrency: env.FLEET_SCHEDULER_CONCURRENCY,
  });
  const running = consumer;
  // the schedule queue's firings (the workers and mergers report their own queues)
  registerQueueMetrics(ops.registry, [schedules.queue]);
  log.info({ ...(ops.port === undefined ? {} : { metricsPort: ops.port }), concurrency: env.FLEET_SCHEDULER_CONCURRENCY, notify: env.FLEET_NOTIFY_URL ? new URL(env.FLEET_NOTIFY_URL).origin : null, timeoutH: env.FLEET_SCHEDULE_TIMEOUT_H }, 'scheduler started');
  return {
    metricsPort: ops.port,
    async close() {
      stopping.abort();
      await running.close();
      await Promise.all([schedules.close(), queues.close(), ops.close()]);
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
