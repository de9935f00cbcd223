import { createLogger } from '@fleet/logging';
import { freePort } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../../test/support/redis';
import { parseSchedulerEnv } from './scheduler-env';
import { startScheduler } from './start-scheduler';
import { getOps, waitForReady } from '../../../../test/support/ops-probe';

const get = getOps;

describe('scheduler ops server', () => {
  it('is ready once it takes firings, exports the schedule queue and its firings counter, and is gone after close()', async () => {
    const port = await freePort();
    const scheduler = await startScheduler(testRedisUrl(), parseSchedulerEnv({ FLEET_QUEUE_PREFIX: uniquePrefix('scheduler-ops'), FLEET_METRICS_PORT: String(port) }), createLogger('scheduler-ops-test'));
    try {
      expect(scheduler.metricsPort).toBe(port);
      const ready = await waitForReady(port);
      expect(ready).toEqual({ status: 200, body: '{"status":"ok"}\n' });
      expect((await get(port, '/livez')).status).toBe(200);
      const metrics = (await get(port, '/metrics')).body;
      expect(metrics).toContain('fleet_queue_jobs{queue="fleet-schedule",state="wait",fleet_process="scheduler"} 0');
      expect(metrics).toContain('# TYPE fleet_scheduler_firings_total counter');
    } finally {
      await scheduler.close();
    }
    await expect(get(port, '/readyz')).rejects.toThrow();
  }, 60_000);

  it('without FLEET_METRICS_PORT opens no port', async () => {
    const scheduler = await startScheduler(testRedisUrl(), parseSchedulerEnv({ FLEET_QUEUE_PREFIX: uniquePrefix('scheduler-ops') }), createLogger('scheduler-ops-test'));
    expect(scheduler.metricsPort).toBeUndefined();
    await scheduler.close();
  }, 60_000);
});
