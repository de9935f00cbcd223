import { FleetSchedules, markRunFailed, RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../../test/support/redis';
import { syntheticRunSpec } from '../../../../test/support/run-spec-fixture';
import { followRun } from './follow-run';

/** 2 windows, one block: the outcomes a firing reports, read from a real run state in Redis. */
const spec = syntheticRunSpec({ runId: 'run-f', width: 600, height: 400, windowCount: 2 });

describe('followRun', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());
  const never = new AbortController().signal;
  const soon = () => ({ deadline: Date.now() + 20_000, pollMs: 20, signal: never });

  async function startedRun(prefix: string): Promise<RunState> {
    const state = new RunState(redis, prefix, 'run-f');
    await state.init(spec, new Map([['all', 2]]));
    return state;
  }

  it('ok once the run is finalised with every window mapped', async () => {
    const state = await startedRun(uniquePrefix('follow-ok'));
    const followed = followRun(redis, state.prefix, 'run-f', soon());
    await state.completeWindow(0, 'r0-c0', 'done', ['all']);
    await state.completeWindow(1, 'r0-c1', 'skipped', ['all']);
    await state.completeBlock({ blockId: 'all', key: 'blocks/all.tif', bytes: 1, classPixels: {}, failedWindows: 0, mergeMs: 1 });
    await state.finish({}, 2);
    expect(await followed).toMatchObject({ state: 'ok', message: 'map complete: 1 window(s) inferred, 1 without data, 1 block(s)', progress: { done: 1, skipped: 1, failed: 0 } });
  });

  it('failed when windows failed (an incomplete map), naming the first one and fleet retry', async () => {
    const state = await startedRun(uniquePrefix('follow-windows'));
    await state.completeWindow(0, 'r0-c0', 'done', ['all']);
    await state.completeWindow(1, 'r0-c1', 'failed', ['all'], {}, '/data/a.tif: truncated');
    await state.completeBlock({ blockId: 'all', key: 'blocks/all.tif', bytes: 1, classPixels: {}, failedWindows: 1, mergeMs: 1 });
    await state.finish({}, 2);
    expect(await followRun(redis, state.prefix, 'run-f', soon())).toMatchObject({
      state: 'failed',
      message: 'finished with 1 failed window(s) of 2, their pixels are nodata: window r0-c1: /data/a.tif: truncated; fix the input and run fleet retry run-f',
    });
  });

  it('failed when a merge failed for good, without waiting for a finalisation that never comes', async () => {
    const state = await startedRun(uniquePrefix('follow-fatal'));
    await markRunFailed(redis, state.prefix, 'run-f', 'block all', 'disk full');
    expect(await followRun(redis, state.prefix, 'run-f', soon())).toMatchObject({ state: 'failed', message: 'block all failed for good: disk full' });
  });

  it('failed at the deadline, saying what is pending; the run is left alone', async () => {
    const state = await startedRun(uniquePrefix('follow-deadline'));
    await state.completeWindow(0, 'r0-c0', 'done', ['all']);
    const outcome = await followRun(redis, state.prefix, 'run-f', { deadline: Date.now() + 100, pollMs: 20, signal: never });
    expect(outcome).toMatchObject({ state: 'failed', message: expect.stringMatching(/^not finished by the schedule's time limit \(FLEET_SCHEDULE_TIMEOUT_H\): 1 window\(s\) pending, 0\/1 block\(s\) merged/) });
    expect((await state.progress())?.status).toBe('running');
  });

  it('failed when the run is not in Redis; interrupted when the scheduler stops', async () => {
    expect(await followRun(redis, uniquePrefix('follow-none'), 'run-f', soon())).toMatchObject({ state: 'failed', message: 'run run-f is no longer in Redis (expired or deleted) before it finished' });
    const state = await startedRun(uniquePrefix('follow-stop'));
    const stop = new AbortController();
    const followed = followRun(redis, state.prefix, 'run-f', { deadline: Date.now() + 20_000, pollMs: 5_000, signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    expect(await followed).toMatchObject({ state: 'interrupted' });
  });
});

describe('a schedule\'s claim (one firing at a time)', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('is held by one firing, taken again by the same firing, released only by its holder', async () => {
    const schedules = new FleetSchedules(redis, redis, uniquePrefix('claim'));
    try {
      expect(await schedules.claim('92', 'repeat:92:1000', 60_000)).toBe(true);
      expect(await schedules.claim('92', 'repeat:92:2000', 60_000)).toBe('repeat:92:1000');
      // the same firing taken over by another scheduler resumes
      expect(await schedules.claim('92', 'repeat:92:1000', 60_000)).toBe(true);
      await schedules.release('92', 'repeat:92:2000');
      expect(await schedules.claim('92', 'repeat:92:3000', 60_000)).toBe('repeat:92:1000');
      await schedules.release('92', 'repeat:92:1000');
      expect(await schedules.claim('92', 'repeat:92:3000', 60_000)).toBe(true);
      // a claim whose holder vanished expires
      expect(await schedules.claim('93', 'repeat:93:1', 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 120));
      expect(await schedules.claim('93', 'repeat:93:2', 60_000)).toBe(true);
    } finally {
      await schedules.close();
    }
  });
});
