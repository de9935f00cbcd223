import { Gauge, type Registry } from 'prom-client';

/** What is read of a BullMQ queue at scrape time. */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

/** Job states exported per queue. */
export const QUEUE_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'failed', 'completed'] as const;

/**
 * fleet_queue_jobs{queue,state}, read with Queue.getJobCounts when scraped (one pipelined
 * round trip of O(1) length calls per queue). BullMQ's own Queue.exportPrometheusMetrics is
 * not used: it returns finished text that cannot join a prom-client registry (a second queue
 * would repeat its HELP/TYPE lines), and its completed/failed totals read BullMQ's metrics
 * lists, which stay at 0 unless every worker is started with the `metrics` option.
 */
export function registerQueueMetrics(registry: Registry, queues: readonly CountableQueue[], timeoutMs = 2_000): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: 'fleet_queue_jobs',
    help: 'Jobs in a BullMQ queue by state, read when scraped (max() it over pods: every process reports the queues it consumes)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      // a BullMQ connection waits for Redis without limit: a scrape while Redis is gone gets
      // every other metric and no queue series, instead of hanging until the scraper gives up
      let timer: NodeJS.Timeout | undefined;
      const read = Promise.all(queues.map(async (q) => ({ queue: q.name, counts: await q.getJobCounts(...QUEUE_STATES) })));
      const all = await Promise.race([read, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)))]).catch(() => undefined);
      clearTimeout(timer);
      if (!all) return;
      for (const { queue, counts } of all) {
        for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
      }
    },
  });
}
