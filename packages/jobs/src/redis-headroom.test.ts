import { createRedisConnection, startPrivateRedis } from '@fleet/redis';
import { assertRunFits, estimateRunBytes, FIXED_RUN_BYTES, RedisFullError, redisMemory } from './redis-headroom';
import { runKeys } from './run-keys';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';

// windowCount 10,000 (a round count the estimates below are checked against), not the plan's
const spec = syntheticRunSpec({ runId: 'dept', width: 38_912, height: 38_912, windowCount: 10_000 });

describe('assertRunFits', () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let client: ReturnType<typeof createRedisConnection>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    client = createRedisConnection(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('estimates ~1 KB per window job plus bitmaps, blocks, the spec and the events streams', () => {
    const bytes = estimateRunBytes(spec, 10_000, false);
    expect(bytes).toBeGreaterThan(10_000 * 1_000 + FIXED_RUN_BYTES);
    expect(bytes).toBeLessThan(10_000 * 1_000 + FIXED_RUN_BYTES + 10_000);
    expect(estimateRunBytes(spec, 0, true)).toBe(Math.ceil(10_000 * 3 / 8 + 2_000 + FIXED_RUN_BYTES));
  });

  it('refuses a run that does not fit in maxmemory with how much it needs and how much is free', async () => {
    const { used } = await redisMemory(client);
    await client.config('SET', 'maxmemory', String(used + 8 * 1024 * 1024));
    const err = await assertRunFits(client, 'p', spec).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RedisFullError);
    expect((err as RedisFullError).exitCode).toBe(2);
    expect((err as RedisFullError).needed).toBe(estimateRunBytes(spec, 10_000, false));
    expect((err as Error).message).toMatch(
      /^Redis has [78]\.\d MB free \(maxmemory \d+\.\d MB, used \d+\.\d MB\) but run dept needs about 13\.5 MB \(10000 jobs for 10000 windows\): raise maxmemory or free memory \(fleet runs lists the runs it holds\)$/,
    );

    // resuming a run whose windows are mostly done needs only what is left
    const k = runKeys('p', 'dept');
    await client.set(k.spec, JSON.stringify(spec));
    await client.setbit(k.windowsDone, 9_000, 0);
    await client.bitop('NOT', k.windowsDone, k.windowsDone);
    expect(await client.bitcount(k.windowsDone)).toBe(9_008);
    const resumed = await assertRunFits(client, 'p', spec);
    expect(resumed.needed).toBe(estimateRunBytes(spec, 992, true));
    expect(resumed.free).toBeGreaterThan(resumed.needed);

    await client.config('SET', 'maxmemory', String(used + 64 * 1024 * 1024));
    expect((await assertRunFits(client, 'q', spec)).free).toBeGreaterThan(estimateRunBytes(spec, 10_000, false));
  });

  it('skips the check and says so when Redis has no maxmemory', async () => {
    await client.config('SET', 'maxmemory', '0');
    const lines: object[] = [];
    expect(await assertRunFits(client, 'r', spec, { info: (obj) => lines.push(obj) })).toEqual({ needed: estimateRunBytes(spec, 10_000, false) });
    expect(lines).toEqual([{ runId: 'dept', neededBytes: estimateRunBytes(spec, 10_000, false) }]);
  });
});
