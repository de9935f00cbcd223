import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisConnection, startPrivateRedis, type PrivateRedis } from '../../packages/redis/src';
import { runFleet } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';

describe('fleet enqueue on a Redis without room for the run', () => {
  let root: string;
  let redis: PrivateRedis;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-full-'));
    await writeStackMosaic(join(root, 'stack'), 2, 1, 300, 300);
    writePerPixelModel(join(root, 'model'), 5);
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('is refused in one line saying what the run needs and what is free (exit 2), with nothing enqueued', async () => {
    const admin = createRedisConnection(redis.url);
    try {
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      await admin.config('SET', 'maxmemory', String(used + 1024 * 1024));
      const result = await runFleet(['enqueue', '--stack', join(root, 'stack'), '--model', join(root, 'model'), '--out', join(root, 'out'), '--run-id', 'full'], {
        REDIS_URL: redis.url,
        FLEET_QUEUE_PREFIX: 'full',
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^fleet enqueue: Redis has \d\.\d MB free \(maxmemory \d+\.\d MB, used \d+\.\d MB\) but run full needs about \d+\.\d MB \(\d+ jobs for \d+ windows\): raise maxmemory or free memory \(fleet runs lists the runs it holds\)\n$/);
      // nothing of the run (BullMQ's queues write only their meta key when opened)
      expect((await admin.keys('full:*')).filter((k) => !k.endsWith(':meta'))).toEqual([]);

      await admin.config('SET', 'maxmemory', '0');
      const ok = await runFleet(['enqueue', '--stack', join(root, 'stack'), '--model', join(root, 'model'), '--out', join(root, 'out'), '--run-id', 'full'], {
        REDIS_URL: redis.url,
        FLEET_QUEUE_PREFIX: 'full',
      });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ runId: 'full', created: true });
    } finally {
      admin.disconnect();
    }
  }, 60_000);
});
