import { createLogger } from '@fleet/logging';
import { freePort } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { parsePreparerEnv } from './env';
import { startPreparer } from './start-preparer';
import { getOps, waitForReady } from '../../../test/support/ops-probe';

const get = getOps;

describe('preparer ops server', () => {
  it('is ready once its consumer runs, exports the prepare queue counts, and is gone after close()', async () => {
    const port = await freePort();
    const preparer = await startPreparer(testRedisUrl(), parsePreparerEnv({ FLEET_QUEUE_PREFIX: uniquePrefix('preparer-ops'), FLEET_METRICS_PORT: String(port) }), createLogger('preparer-ops-test'));
    try {
      expect(preparer.metricsPort).toBe(port);
      const ready = await waitForReady(port);
      expect(ready).toEqual({ status: 200, body: '{"status":"ok"}\n' });
      expect((await get(port, '/livez')).status).toBe(200);
      const metrics = (await get(port, '/metrics')).body;
      expect(metrics).toContain('fleet_queue_jobs{queue="fleet-prepare",state="wait",fleet_process="preparer"} 0');
      expect(metrics).toContain('# TYPE fleet_preparer_dalles_total counter');
    } finally {
      await preparer.close();
    }
    await expect(get(port, '/readyz')).rejects.toThrow();
  }, 60_000);
});
