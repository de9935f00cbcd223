import { RunState, expireRun, runsIndexKey } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { runFleet } from '../support/fleet-process';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { syntheticRunSpec } from '../support/run-spec-fixture';

// 1000 x 600 px: 3 x 2 windows, one block
const spec = (runId: string) => syntheticRunSpec({ runId, createdAt: '2026-11-30T01:00:00Z', width: 1000, height: 600 });

describe('fleet runs', () => {
  it('prints its help without Redis, and needs REDIS_URL otherwise', async () => {
    const help = await runFleet(['runs', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^fleet runs \[--json\] the runs in REDIS_URL's Redis/);
    expect(await runFleet(['runs'], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/^fleet runs: needs REDIS_URL/) });
    expect(await runFleet(['runs', '--all'], {})).toMatchObject({ code: 2, stderr: 'fleet runs: unknown argument --all: usage: fleet runs [--json]\n' });
  });

  it('lists the runs with their state and forgets the expired ones', async () => {
    const prefix = uniquePrefix('runs');
    const redis = createRedisConnection(testRedisUrl());
    try {
      const live = new RunState(redis, prefix, 'live');
      await live.init(spec('live'), new Map([['all', 6]]));
      await live.completeWindow(0, 'r0-c0', 'done', ['all']);
      await live.completeWindow(1, 'r0-c1', 'failed', ['all'], {}, 'boom');
      const old = new RunState(redis, prefix, 'old');
      await old.init(spec('old'), new Map([['all', 6]]));
      await expireRun(redis, prefix, 'old', 1);
      await new Promise((r) => setTimeout(r, 1_100));

      const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix };
      const listed = await runFleet(['runs'], env);
      expect(listed).toMatchObject({ code: 0, stdout: 'live  2026-11-30T01:00:00Z  running  2/6 windows (1 failed)  0/1 blocks\n', stderr: 'forgot 1 expired run(s): old\n' });
      expect(await redis.smembers(runsIndexKey(prefix))).toEqual(['live']);
      const json = JSON.parse((await runFleet(['runs', '--json'], env)).stdout) as { runs: unknown[]; pruned: string[] };
      expect(json).toEqual({ runs: [{ runId: 'live', createdAt: '2026-11-30T01:00:00Z', status: 'running', windows: 6, finished: 2, failed: 1, blocks: 1, blocksMerged: 0 }], pruned: [] });
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
