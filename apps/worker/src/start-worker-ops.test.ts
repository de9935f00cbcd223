import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fleet/redis';
import { createLogger } from '@fleet/logging';
import { writePerPixelModel } from '../../../test/support/model-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { parseWorkerEnv } from './env';
import { startWorker, type RunningWorker } from './start-worker';
import { getOps } from '../../../test/support/ops-probe';

const get = getOps;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('worker ops server', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'worker-ops-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('answers /readyz 503 while FLEET_MODEL loads, 200 once it is warmed and the consumer runs; provider cpu; gone after close()', async () => {
    // model.onnx is a FIFO: the model load blocks in its read until the test writes the bytes,
    // which holds the worker in its "loading" state for as long as the test needs
    const modelDir = join(root, 'model');
    writePerPixelModel(modelDir, 3);
    const onnx = readFileSync(join(modelDir, 'model.onnx'));
    renameSync(join(modelDir, 'model.onnx'), join(root, 'model.onnx.bytes'));
    execFileSync('mkfifo', [join(modelDir, 'model.onnx')]);

    const port = await freePort();
    const env = parseWorkerEnv({ FLEET_QUEUE_PREFIX: uniquePrefix('worker-ops'), FLEET_MODEL: modelDir, FLEET_METRICS_PORT: String(port), FLEET_THREADS: '1', FLEET_BATCH_SIZE: '2' });
    const starting = startWorker(testRedisUrl(), env, createLogger('worker-ops-test'));
    let worker: RunningWorker | undefined;
    try {
      const loading = await until('the ops server', () => get(port, '/readyz'));
      expect(loading.status).toBe(503);
      expect(JSON.parse(loading.body)).toEqual({ status: 'fail', reasons: [`model ${modelDir} not loaded and warmed yet`] });
      // alive while it loads: no Redis connection yet, so only the event loop is checked
      expect((await get(port, '/livez')).status).toBe(200);

      // asynchronously: opening a FIFO for writing blocks until its reader opens it, which must
      // not be this (main) thread, or the worker's load could never get to open it
      await writeFile(join(modelDir, 'model.onnx'), onnx);
      worker = await starting;
      expect(worker.metricsPort).toBe(port);
      const ready = await until('readiness', async () => {
        const r = await get(port, '/readyz');
        return r.status === 200 ? r : undefined;
      });
      expect(JSON.parse(ready.body)).toEqual({ status: 'ok' });
      expect((await get(port, '/livez')).status).toBe(200);
      const metrics = (await get(port, '/metrics')).body;
      expect(metrics).toContain('fleet_worker_provider_info{provider="cpu",fleet_process="worker"} 1');
      expect(metrics).toMatch(/fleet_queue_jobs\{queue="fleet-infer",state="wait",fleet_process="worker"\} 0/);
    } finally {
      if (!worker) {
        // unblock a load still waiting on the FIFO so that start-up ends
        await writeFile(join(modelDir, 'model.onnx'), onnx);
        worker = await starting.catch(() => undefined);
      }
      const closing = worker?.close();
      await closing;
    }
    // after close() the server is gone with the rest of the process's resources
    await expect(get(port, '/readyz')).rejects.toThrow();
  }, 60_000);
});
