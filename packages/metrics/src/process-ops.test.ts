import { Queue } from 'bullmq';
import { createRedisConnection, freePort, startPrivateRedis } from '../../redis/src';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import type { MetricsEnv } from './metrics-env';
import { startProcessOps } from './process-ops';
import { registerQueueMetrics } from './queue-metrics';
import { WorkerMetrics } from './worker-metrics';
import { getOps } from '../../../test/support/ops-probe';

const get = getOps;

const envOn = async (extra: Partial<MetricsEnv> = {}): Promise<MetricsEnv> => ({
  FLEET_METRICS_PORT: await freePort(),
  FLEET_METRICS_HOST: '127.0.0.1',
  FLEET_LIVEZ_MAX_LAG_MS: 10_000,
  FLEET_LIVEZ_REDIS_TIMEOUT_MS: 500,
  ...extra,
});

describe('startProcessOps', () => {
  it('opens no port when FLEET_METRICS_PORT is 0, and still gives a registry', async () => {
    const ops = await startProcessOps({ component: 'worker', env: { ...(await envOn()), FLEET_METRICS_PORT: 0 }, redis: { ping: async () => 'PONG' }, ready: () => [] });
    expect(ops.port).toBeUndefined();
    new WorkerMetrics(ops.registry).window('r1', 'done');
    expect(await ops.registry.metrics()).toContain('fleet_worker_windows_total{run="r1",outcome="done",fleet_process="worker"} 1');
    await ops.close();
  });

  it('/livez fails naming Redis once its redis-server is stopped, and passes while it runs', async () => {
    const redis = await startPrivateRedis();
    const connection = createRedisConnection(redis.url);
    const ops = await startProcessOps({ component: 'merger', env: await envOn(), redis: connection, ready: () => [] });
    const queue = new Queue('fleet-merge', { connection, prefix: 'gone' });
    registerQueueMetrics(ops.registry, [queue], 500);
    try {
      expect(await get(ops.port!, '/livez')).toEqual({ status: 200, body: '{"status":"ok"}\n' });
      expect((await get(ops.port!, '/metrics')).body).toContain('fleet_queue_jobs{queue="fleet-merge",state="wait",fleet_process="merger"} 0');
      await redis.stop();
      const live = await get(ops.port!, '/livez');
      expect(live.status).toBe(503);
      expect(JSON.parse(live.body)).toEqual({ status: 'fail', reasons: ['redis: no PING answer within 500 ms'] });
      // readiness is the process's own answer: Redis gone does not change it
      expect((await get(ops.port!, '/readyz')).status).toBe(200);
      // /metrics still answers, without the queue series it cannot read
      const metrics = await get(ops.port!, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('process_cpu_seconds_total{fleet_process="merger"}');
      expect(metrics.body).not.toContain('fleet_queue_jobs{');
    } finally {
      await queue.close().catch(() => undefined);
      connection.disconnect();
      await ops.close();
      await redis.stop().catch(() => undefined);
    }
  }, 30_000);

  it('/livez fails naming the event loop lag after the loop was blocked longer than FLEET_LIVEZ_MAX_LAG_MS', async () => {
    const ops = await startProcessOps({ component: 'worker', env: await envOn({ FLEET_LIVEZ_MAX_LAG_MS: 200 }), redis: { ping: async () => 'PONG' }, ready: () => [] });
    try {
      expect((await get(ops.port!, '/livez')).status).toBe(200);
      const until = Date.now() + 600;
      while (Date.now() < until) {
        // a synchronous stall, as a stuck decode or a runaway loop would make
      }
      const live = await get(ops.port!, '/livez');
      expect(live.status).toBe(503);
      const reasons = (JSON.parse(live.body) as { reasons: string[] }).reasons;
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toMatch(/^event loop lag \d+ ms over FLEET_LIVEZ_MAX_LAG_MS=200$/);
      expect(Number(/lag (\d+)/.exec(reasons[0]!)![1])).toBeGreaterThanOrEqual(500);
    } finally {
      await ops.close();
    }
  });

  it('/metrics carries the process defaults, the fleet_process label and the queue counts read at scrape time', async () => {
    const connection = createRedisConnection(testRedisUrl());
    const queue = new Queue('fleet-infer', { connection, prefix: uniquePrefix('ops') });
    const ops = await startProcessOps({ component: 'worker', env: await envOn(), redis: connection, ready: () => [] });
    try {
      registerQueueMetrics(ops.registry, [queue]);
      await queue.add('infer-group', {}, { jobId: 'a' });
      await queue.add('infer-group', {}, { jobId: 'b', delay: 60_000 });
      const body = (await get(ops.port!, '/metrics')).body;
      expect(body).toContain('process_cpu_seconds_total{fleet_process="worker"}');
      expect(body).toContain('nodejs_eventloop_lag_seconds{fleet_process="worker"}');
      expect(body).toContain('fleet_queue_jobs{queue="fleet-infer",state="wait",fleet_process="worker"} 1');
      expect(body).toContain('fleet_queue_jobs{queue="fleet-infer",state="delayed",fleet_process="worker"} 1');
      expect(body).toContain('fleet_queue_jobs{queue="fleet-infer",state="active",fleet_process="worker"} 0');
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
      await ops.close();
    }
  });
});

describe('WorkerMetrics', () => {
  it('counts windows per run and outcome, observes steps in seconds, and reads the tile cache when scraped', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    let cache = { hits: 3, misses: 1, bytes: 4096 };
    const m = new WorkerMetrics(registry, () => cache);
    m.setProvider('cpu');
    m.batch(4, 250, 'cpu');
    m.window('r1', 'done', { readMs: 20, postMs: 5, uploadMs: 40 });
    m.window('r1', 'skipped', { readMs: 2 });
    m.window('r2', 'failed');
    let body = await registry.metrics();
    expect(body).toContain('fleet_worker_windows_total{run="r1",outcome="done"} 1');
    expect(body).toContain('fleet_worker_windows_total{run="r1",outcome="skipped"} 1');
    expect(body).toContain('fleet_worker_windows_total{run="r2",outcome="failed"} 1');
    expect(body).toContain('fleet_worker_read_seconds_count 2');
    expect(body).toContain('fleet_worker_read_seconds_sum 0.022');
    expect(body).toContain('fleet_worker_upload_seconds_sum 0.04');
    expect(body).toContain('fleet_worker_encode_seconds_sum 0.005');
    expect(body).toContain('fleet_worker_inference_seconds_sum 0.25');
    expect(body).toContain('fleet_worker_batch_windows_bucket{le="4"} 1');
    expect(body).toContain('fleet_worker_batch_windows_bucket{le="2"} 0');
    expect(body).toContain('fleet_worker_provider_info{provider="cpu"} 1');
    expect(body).toContain('fleet_worker_tile_cache_hits_total 3');
    expect(body).toContain('fleet_worker_tile_cache_misses_total 1');
    expect(body).toContain('fleet_worker_tile_cache_bytes 4096');

    // the cache's counts grow: the counters follow, read twice they do not double
    cache = { hits: 10, misses: 2, bytes: 8192 };
    await registry.metrics();
    body = await registry.metrics();
    expect(body).toContain('fleet_worker_tile_cache_hits_total 10');
    expect(body).toContain('fleet_worker_tile_cache_misses_total 2');

    // a fallback changes the provider: only the one in use is 1
    m.batch(1, 10, 'cuda');
    body = await registry.metrics();
    expect(body).toContain('fleet_worker_provider_info{provider="cuda"} 1');
    expect(body).not.toContain('fleet_worker_provider_info{provider="cpu"}');
  });
});
