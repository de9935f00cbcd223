import { createLogger } from '@fleet/logging';
import { freePort } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { parsePreparerEnv } from './env';
import { startPreparer } from './start-preparer';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('preparer ops server', () => {
  it('is ready once its consumer runs, exports the prepare queue counts, and is gone after close()', async () => {
    const port = await freePort();
    const preparer = await startPreparer(testRedisUrl(), parsePreparerEnv({ FLEET_QUEUE_PREFIX: uniquePrefix('preparer-ops'), FLEET_METRICS_PORT: String(port) }), createLogger('preparer-ops-test'));
    try {
      expect(preparer.metricsPort).toBe(port);
      const deadline = Date.now() + 20_000;
      let ready = await get(port, '/readyz');
      while (ready.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await get(port, '/readyz');
      }
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
