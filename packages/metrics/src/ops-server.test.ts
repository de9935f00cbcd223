import { Counter, Registry } from 'prom-client';
import { startOpsServer, type OpsServer } from './ops-server';

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('startOpsServer (real HTTP on a free port)', () => {
  let server: OpsServer;
  const registry = new Registry();
  const jobs = new Counter({ name: 'fleet_test_jobs_total', help: 'test counter', labelNames: ['outcome'], registers: [registry] });
  let liveReasons: string[] = [];
  let readyReasons: string[] = [];

  beforeAll(async () => {
    server = await startOpsServer({ port: 0, registry, live: () => liveReasons, ready: async () => readyReasons });
  });
  afterAll(() => server.close());

  it('serves the registry at /metrics in the Prometheus text format', async () => {
    jobs.inc({ outcome: 'done' }, 3);
    const res = await get(server.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toBe(registry.contentType);
    expect(res.body).toContain('# TYPE fleet_test_jobs_total counter');
    expect(res.body).toContain('fleet_test_jobs_total{outcome="done"} 3');
  });

  it('answers /livez and /readyz 200 with no reason, 503 with the reasons in JSON', async () => {
    expect(await get(server.port, '/livez')).toEqual({ status: 200, type: 'application/json', body: '{"status":"ok"}\n' });
    expect((await get(server.port, '/readyz')).status).toBe(200);

    liveReasons = ['redis: no PING answer within 2000 ms'];
    readyReasons = ['model /m not loaded and warmed yet', 'consumer not started yet'];
    const live = await get(server.port, '/livez');
    expect(live.status).toBe(503);
    expect(JSON.parse(live.body)).toEqual({ status: 'fail', reasons: ['redis: no PING answer within 2000 ms'] });
    const ready = await get(server.port, '/readyz?verbose=1');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'fail', reasons: ['model /m not loaded and warmed yet', 'consumer not started yet'] });
    liveReasons = [];
    readyReasons = [];
  });

  it('answers 404 for any other path, 405 for other methods, and HEAD without a body', async () => {
    const missing = await get(server.port, '/health');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('not found: /health; try /metrics, /livez, /readyz\n');
    expect((await get(server.port, '/metrics', 'POST')).status).toBe(405);
    expect(await get(server.port, '/livez', 'HEAD')).toEqual({ status: 200, type: 'application/json', body: '' });
  });

  it('answers 500 naming the error when a check throws, and keeps serving', async () => {
    const broken = await startOpsServer({ port: 0, registry, live: () => { throw new Error('check exploded'); }, ready: () => [] });
    try {
      expect(await get(broken.port, '/livez')).toMatchObject({ status: 500, body: 'check exploded\n' });
      expect((await get(broken.port, '/readyz')).status).toBe(200);
    } finally {
      await broken.close();
    }
  });

  it('fails with one line naming the address when the port is taken', async () => {
    await expect(startOpsServer({ port: server.port, registry, live: () => [], ready: () => [] })).rejects.toThrow(`metrics server cannot listen on 127.0.0.1:${server.port}: listen EADDRINUSE`);
  });
});
