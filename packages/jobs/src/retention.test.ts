import { createRedisConnection } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { expireRun, listRuns, persistRun, runTtlSeconds } from './retention';
import { runKeys, runsIndexKey } from './run-keys';
import { RunState } from './run-state';

// 1000 x 600 px: 3 x 2 windows, one block
const spec = (runId: string, createdAt: string) => syntheticRunSpec({ runId, createdAt, width: 1000, height: 600 });

describe('run retention', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('reads FLEET_RUN_TTL_DAYS (default 7 days, 0 = for ever) and names it when bad', () => {
    expect(runTtlSeconds({})).toBe(7 * 86_400);
    expect(runTtlSeconds({ FLEET_RUN_TTL_DAYS: '' })).toBe(7 * 86_400);
    expect(runTtlSeconds({ FLEET_RUN_TTL_DAYS: '0.5' })).toBe(43_200);
    expect(runTtlSeconds({ FLEET_RUN_TTL_DAYS: '0' })).toBe(0);
    expect(() => runTtlSeconds({ FLEET_RUN_TTL_DAYS: 'week' })).toThrow('FLEET_RUN_TTL_DAYS: expected a number of days >= 0, got "week"');
    expect(() => runTtlSeconds({ FLEET_RUN_TTL_DAYS: '-1' })).toThrow(/^FLEET_RUN_TTL_DAYS/);
  });

  it('expires every key of a finished run, persists them again for a retry, and lists runs, forgetting expired ones', async () => {
    const prefix = uniquePrefix('retention');
    const older = new RunState(redis, prefix, 'older');
    const newer = new RunState(redis, prefix, 'newer');
    const gone = new RunState(redis, prefix, 'gone');
    await newer.init(spec('newer', '2026-11-29T10:00:00Z'), new Map([['all', 6]]));
    await older.init(spec('older', '2026-11-28T10:00:00Z'), new Map([['all', 6]]));
    await gone.init(spec('gone', '2026-11-27T10:00:00Z'), new Map([['all', 6]]));
    for (let i = 0; i < 6; i++) await older.completeWindow(i, `r${Math.floor(i / 3)}-c${i % 3}`, i === 5 ? 'failed' : 'done', ['all'], {}, i === 5 ? 'boom' : '');
    await older.completeWindow(0, 'r0-c0', 'done', ['all']);
    await newer.completeWindow(0, 'r0-c0', 'done', ['all']);
    await older.completeBlock({ blockId: 'all', key: 'k', bytes: 1, classPixels: {}, failedWindows: 1, mergeMs: 1 });
    await older.finish({ complete: false }, 6);

    await expireRun(redis, prefix, 'older', 3 * 86_400);
    const k = runKeys(prefix, 'older');
    for (const key of [k.spec, k.status, k.report, k.windowsDone, k.windowsFailed, k.failures, k.blockRemaining, k.blocksMerged, k.blocksRemaining, k.blockResults]) {
      expect([key, await redis.ttl(key)]).toEqual([key, 3 * 86_400]);
    }
    expect(await redis.ttl(runsIndexKey(prefix))).toBe(-1);
    // a run whose state has expired (gone at once here)
    await expireRun(redis, prefix, 'gone', 1);
    await new Promise((r) => setTimeout(r, 1_100));

    const listed = await listRuns(redis, prefix);
    expect(listed.pruned).toEqual(['gone']);
    expect(listed.runs).toEqual([
      { runId: 'older', createdAt: '2026-11-28T10:00:00Z', status: 'done', windows: 6, finished: 6, failed: 1, blocks: 1, blocksMerged: 1, expiresInS: expect.any(Number) },
      { runId: 'newer', createdAt: '2026-11-29T10:00:00Z', status: 'running', windows: 6, finished: 1, failed: 0, blocks: 1, blocksMerged: 0 },
    ]);
    expect(listed.runs[0]?.expiresInS).toBeGreaterThan(3 * 86_400 - 60);
    expect((await redis.smembers(runsIndexKey(prefix))).sort()).toEqual(['newer', 'older']);
    expect((await listRuns(redis, prefix)).pruned).toEqual([]);

    await persistRun(redis, prefix, 'older');
    expect(await redis.ttl(k.spec)).toBe(-1);
    expect(await redis.ttl(k.windowsDone)).toBe(-1);
    expect((await listRuns(redis, prefix)).runs[0]).not.toHaveProperty('expiresInS');

    // 0 days: the keys stay
    await expireRun(redis, prefix, 'older', 0);
    expect(await redis.ttl(k.spec)).toBe(-1);
  });
});
