import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetQueues } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';

/**
 * The accelerator, asserted (issue 11): a worker asked for cuda on a machine without CUDA (this
 * one: onnxruntime-node ships no CUDA libraries here) stops at start with one line and exit 2,
 * before taking any job, unless FLEET_PROVIDER_FALLBACK=cpu; then it preloads FLEET_MODEL, says
 * the provider in use, and logs one info line per batch.
 */
describe('fleet worker: FLEET_PROVIDER asserted at start, FLEET_MODEL preloaded, one line per batch', () => {
  let root: string;
  let model: string;
  let prefix: string;
  let enqueued: { runId: string; submitted: number; windows: number };
  const procs: FleetProcess[] = [];
  const connection = createRedisConnection(testRedisUrl());
  let queues: FleetQueues;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-accel-'));
    const mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 200, 200);
    model = join(root, 'model');
    writePerPixelModel(model, 5);
    prefix = uniquePrefix('accel');
    queues = new FleetQueues(connection, prefix);
    const r = await runFleet(['enqueue', '--stack', mosaic.dir, '--model', model, '--out', join(root, 'out')], { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix });
    expect([r.code, r.stderr]).toEqual([0, '']);
    enqueued = JSON.parse(r.stdout) as typeof enqueued;
    expect(enqueued.submitted).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map(stopFleet));
    await queues.close();
    connection.disconnect();
    rmSync(root, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string>): Record<string, string> => ({ REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix, FLEET_THREADS: '1', FLEET_BATCH_SIZE: '2', ...extra });

  it.each([
    ['without FLEET_MODEL (the provider is probed)', {}],
    ['with FLEET_MODEL', { FLEET_MODEL: 'MODEL' }],
  ])('FLEET_PROVIDER=cuda without CUDA: exit 2 and one line, %s, and no job taken', async (_, extra) => {
    const withModel = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v === 'MODEL' ? model : v]));
    const r = await runFleet(['worker'], env({ FLEET_PROVIDER: 'cuda', LOG_LEVEL: 'info', ...withModel }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^fleet worker: FLEET_PROVIDER=cuda: execution provider cuda cannot be loaded on this machine and no fallback is allowed \(.+\); set FLEET_PROVIDER_FALLBACK=cpu to run on the CPU instead\n$/,
    );
    // the line above is all it printed (no 'worker started'), and every group is still waiting
    expect(await queues.infer.getJobCounts('wait', 'active', 'completed', 'failed')).toEqual({ wait: enqueued.submitted, active: 0, completed: 0, failed: 0 });
  }, 120_000);

  it('a FLEET_MODEL that cannot be loaded fails the worker at start (exit 2, one line naming it)', async () => {
    const missing = join(root, 'no-such-model');
    const r = await runFleet(['worker'], env({ FLEET_MODEL: missing }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^fleet worker: FLEET_MODEL=${missing} cannot be loaded: .+\\n$`));
    expect(await queues.infer.getJobCounts('active', 'completed')).toEqual({ active: 0, completed: 0 });
  }, 120_000);

  it('with FLEET_PROVIDER_FALLBACK=cpu: warns, preloads the model, logs the provider in use and one info line per batch', async () => {
    const worker = startFleet(['worker'], env({ FLEET_PROVIDER: 'cuda', FLEET_PROVIDER_FALLBACK: 'cpu', FLEET_MODEL: model, LOG_LEVEL: 'info' }));
    procs.push(worker);
    // the worker logs on stderr (pino, fd 2); infer jobs are removed when they complete
    const logLines = (): Record<string, unknown>[] =>
      worker.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const inferred = (): number => logLines().filter((l) => l.msg === 'batch inferred').reduce((n, b) => n + (b.windows as number), 0);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const counts = await queues.infer.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'failed');
      if (Object.values(counts).every((n) => n === 0) && inferred() >= enqueued.windows) break;
      if (worker.child.exitCode !== null) throw new Error(`worker exited ${worker.child.exitCode}: ${worker.stderr()}`);
      if (Date.now() > deadline) throw new Error(`groups not all done (${JSON.stringify(counts)}); worker log:\n${worker.stderr()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await stopFleet(worker)).toBe(0);
    const lines = logLines();
    const at = (msg: string): number => lines.findIndex((l) => l.msg === msg);
    const fallback = lines.findIndex((l) => /^provider cuda unavailable \(.+\); falling back$/.test(String(l.msg)));
    const started = at('worker started');
    // the model was loaded (on the fallback) before the worker said it started, and took jobs
    expect(fallback).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(fallback);
    expect(lines[started]).toMatchObject({ level: 30, provider: 'cpu', model, batchSize: 2 });
    const batches = lines.filter((l) => l.msg === 'batch inferred');
    expect(batches.length).toBeGreaterThan(0);
    expect(lines.indexOf(batches[0]!)).toBeGreaterThan(started);
    for (const b of batches) {
      expect(b).toMatchObject({ level: 30, provider: 'cpu' });
      expect([1, 2]).toContain(b.windows);
      expect(b.batchSize).toBe(b.windows);
      expect(typeof b.runMs).toBe('number');
    }
    // every window of the run went through exactly one logged batch
    expect(batches.reduce((n, b) => n + (b.windows as number), 0)).toBe(enqueued.windows);
  }, 180_000);
});
