import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunState } from '../../packages/jobs/src';
import { createRedisConnection, freePort, startPrivateRedis, type PrivateRedis } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';
import { publishedReport } from '../support/published';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import { parsePrometheusText, scrape, sumOf, type Sample } from '../support/prometheus-text';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Two `fleet worker`s and a `fleet merger` with FLEET_METRICS_PORT set, as separate processes:
 * their /readyz turns 200 before any job, their /metrics are scraped while the run goes and at
 * its end, and the windows the workers count add up to run.json's. Then `fleet run --workers 2`
 * with FLEET_METRICS_PORT: its own process and each worker on their own port.
 */
describe('metrics and health of a real run (separate processes)', () => {
  let root: string;
  let redis: PrivateRedis;
  let mosaic: StackFixture;
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-metrics-'));
    redis = await startPrivateRedis();
    mosaic = await writeStackMosaic(join(root, 'stack'), 5, 3, 400, 300, ['D-4-2']);
    writePerPixelModel(join(root, 'model'), 5);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(procs.map(stopFleet));
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves /readyz, /livez and /metrics; worker counters scraped during and after the run agree with run.json; provider cpu', async () => {
    const env = { REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: 'metrics', FLEET_BATCH_SIZE: '1', FLEET_THREADS: '1', FLEET_CONCURRENCY: '1' };
    const [w0, w1, m] = [await freePort(), await freePort(), await freePort()];
    procs.push(
      startFleet(['worker'], { ...env, FLEET_METRICS_PORT: String(w0) }),
      startFleet(['worker'], { ...env, FLEET_METRICS_PORT: String(w1) }),
      startFleet(['merger'], { ...env, FLEET_METRICS_PORT: String(m) }),
    );
    const ports = { worker0: w0, worker1: w1, merger: m };
    for (const [name, port] of Object.entries(ports)) {
      const ready = await until(`${name} ready`, async () => {
        const r = await scrape(port, '/readyz');
        return r.status === 200 ? r : undefined;
      });
      expect([name, JSON.parse(ready.body)]).toEqual([name, { status: 'ok' }]);
      expect([name, (await scrape(port, '/livez')).status]).toEqual([name, 200]);
    }

    const out = join(root, 'out');
    const enqueued = await runFleet(['enqueue', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out, '--overlap', '128'], env);
    expect(enqueued.stderr).toBe('');
    const { runId, windows } = JSON.parse(enqueued.stdout) as { runId: string; windows: number };
    expect(windows).toBeGreaterThanOrEqual(15);

    // scraped while it runs: every 50 ms until the run is done
    const connection = createRedisConnection(redis.url);
    const state = new RunState(connection, 'metrics', runId);
    const during: Array<{ worker0: Sample[]; worker1: Sample[]; merger: Sample[] }> = [];
    try {
      const deadline = Date.now() + 120_000;
      while ((await state.progress())?.status !== 'done') {
        if (Date.now() > deadline) throw new Error(`run did not finish: ${JSON.stringify(await state.progress())}\n${procs.map((p) => p.stderr()).join('\n')}`);
        const [a, b, c] = await Promise.all([w0, w1, m].map(async (p) => parsePrometheusText((await scrape(p)).body)));
        if ((await state.progress())?.status !== 'done') during.push({ worker0: a!, worker1: b!, merger: c! });
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      connection.disconnect();
    }
    const report = publishedReport(out) as { windows: { total: number; done: number; skipped: number; failed: number }; blocks: unknown[] };
    expect(report.windows).toMatchObject({ total: windows, failed: 0 });

    // at the end: the processes are still up (a worker's counters live as long as it does)
    const end = Object.fromEntries(await Promise.all(Object.entries(ports).map(async ([name, p]) => [name, parsePrometheusText((await scrape(p)).body)] as const))) as Record<keyof typeof ports, Sample[]>;
    const doneBy = (s: Sample[]) => sumOf(s, 'fleet_worker_windows_total', { run: runId, outcome: 'done' });
    expect(doneBy(end.worker0) + doneBy(end.worker1)).toBe(report.windows.done);
    const skippedBy = (s: Sample[]) => sumOf(s, 'fleet_worker_windows_total', { run: runId, outcome: 'skipped' });
    expect(skippedBy(end.worker0) + skippedBy(end.worker1)).toBe(report.windows.skipped);
    expect(sumOf(end.worker0, 'fleet_worker_windows_total', { outcome: 'failed' }) + sumOf(end.worker1, 'fleet_worker_windows_total', { outcome: 'failed' })).toBe(0);
    // one batch per window at FLEET_BATCH_SIZE 1, one session.run each
    expect(sumOf(end.worker0, 'fleet_worker_batch_windows_count') + sumOf(end.worker1, 'fleet_worker_batch_windows_count')).toBe(report.windows.done);
    expect(sumOf(end.worker0, 'fleet_worker_inference_seconds_count') + sumOf(end.worker1, 'fleet_worker_inference_seconds_count')).toBe(report.windows.done);
    expect(sumOf(end.worker0, 'fleet_worker_upload_seconds_count') + sumOf(end.worker1, 'fleet_worker_upload_seconds_count')).toBe(report.windows.done);
    expect(sumOf(end.worker0, 'fleet_worker_read_seconds_count') + sumOf(end.worker1, 'fleet_worker_read_seconds_count')).toBe(report.windows.done + report.windows.skipped);
    for (const w of [end.worker0, end.worker1]) {
      expect(w.filter((s) => s.name === 'fleet_worker_provider_info')).toEqual([{ name: 'fleet_worker_provider_info', labels: { provider: 'cpu', fleet_process: 'worker' }, value: 1 }]);
      expect(sumOf(w, 'fleet_queue_jobs', { queue: 'fleet-infer', state: 'wait' })).toBe(0);
    }
    // neighbouring windows share source tiles: some reads were served by the cache
    expect(sumOf(end.worker0, 'fleet_worker_tile_cache_hits_total') + sumOf(end.worker1, 'fleet_worker_tile_cache_hits_total')).toBeGreaterThan(0);
    expect(sumOf(end.merger, 'fleet_merger_blocks_merged_total', { run: runId })).toBe(report.blocks.length);
    expect(sumOf(end.merger, 'fleet_merger_merges_total', { outcome: 'done' })).toBe(report.blocks.length);
    expect(sumOf(end.merger, 'fleet_merger_merge_seconds_count')).toBe(report.blocks.length);
    expect(sumOf(end.merger, 'fleet_merger_runs_finalized_total', { complete: 'true' })).toBe(1);

    // during the run: scraped at least once, counters never above the end's and never going back
    expect(during.length).toBeGreaterThan(0);
    let last = 0;
    for (const d of during) {
      const done = doneBy(d.worker0) + doneBy(d.worker1);
      expect(done).toBeGreaterThanOrEqual(last);
      expect(done).toBeLessThanOrEqual(report.windows.done);
      last = done;
    }

    // graceful stop: exit 0, and the ports are closed with the processes
    expect(await Promise.all(procs.splice(0).map(stopFleet))).toEqual([0, 0, 0]);
    await expect(scrape(w0, '/livez')).rejects.toThrow();
  }, 180_000);

  it('fleet run --workers 2 with FLEET_METRICS_PORT: the run process (merger) on the port, worker i on port + 1 + i', async () => {
    const base = await freePort();
    const out = join(root, 'run-out');
    const run = startFleet(['run', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out, '--workers', '2', '--overlap', '128'], {
      REDIS_URL: redis.url,
      FLEET_QUEUE_PREFIX: 'metrics-run',
      FLEET_THREADS: '1',
      FLEET_BATCH_SIZE: '1',
      FLEET_METRICS_PORT: String(base),
    });
    procs.push(run);
    // which process answers on each port, seen while the run goes
    const seen = new Map<number, string>();
    while (run.child.exitCode === null && run.child.signalCode === null) {
      await Promise.all(
        [base, base + 1, base + 2].map(async (port) => {
          const r = await scrape(port).catch(() => undefined);
          const sample = r && parsePrometheusText(r.body).find((x) => x.name === 'process_cpu_seconds_total');
          if (sample) seen.set(port, sample.labels.fleet_process!);
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await run.exited).toBe(0);
    const logDir = /^logs:\s+(.+)$/m.exec(run.stdout())?.[1];
    if (logDir) rmSync(logDir, { recursive: true, force: true });
    expect([...seen.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [base, 'merger'],
      [base + 1, 'worker'],
      [base + 2, 'worker'],
    ]);
  }, 180_000);
});
