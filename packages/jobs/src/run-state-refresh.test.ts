import { createRedisConnection } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { RunState } from './run-state';

// a refresh of 6 windows where 4 are carried (bits 0, 1, 4, 5) and 2 inferred again (2, 3)
const spec = syntheticRunSpec({
  runId: 'run-r',
  width: 1000,
  height: 600,
  createdAt: '2026-11-24T00:00:00Z',
  blocks: [{ id: 'left', x: 0, y: 0, width: 500, height: 600 }, { id: 'right', x: 500, y: 0, width: 500, height: 600 }],
  windowCount: 2,
});
const carriedBits = Buffer.from([0b11001100]);
const carried = { blockId: 'left', key: 'blocks/left.tif', bytes: 123, classPixels: { '1': 7 }, failedWindows: 0, mergeMs: 0 };

describe('RunState of a refresh', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('starts with the carried windows done (not inferred) and the carried blocks merged; progress counts the windows to infer', async () => {
    const state = new RunState(redis, uniquePrefix('refresh-state'), 'run-r');
    expect(await state.init(spec, new Map([['right', 2]]), { done: carriedBits, doneCount: 4, merged: [carried] })).toBe(true);
    expect(await state.doneBits([0, 1, 2, 3, 4, 5])).toEqual([true, true, false, false, true, true]);
    expect(await state.progress()).toMatchObject({ windows: 2, done: 0, skipped: 0, failed: 0, blocks: 2, blocksMerged: 1 });
    expect(await state.blockResults()).toEqual([carried]);

    // a worker re-sending a carried window (its group also holds new windows) changes nothing
    expect(await state.completeWindow(0, 'r0-c0', 'done', ['left'])).toEqual([]);
    expect(await state.completeWindow(2, 'r0-c2', 'done', ['right'])).toEqual([]);
    expect(await state.completeWindow(3, 'r1-c0', 'done', ['right'])).toEqual(['right']);
    expect(await state.progress()).toMatchObject({ windows: 2, done: 2 });
    expect(await state.completeBlock({ ...carried, blockId: 'right', key: 'blocks/right.tif' })).toBe(0);
  });

  it('a resume keeps what the run started with', async () => {
    const state = new RunState(redis, uniquePrefix('refresh-resume'), 'run-r');
    await state.init(spec, new Map([['right', 2]]), { done: carriedBits, doneCount: 4, merged: [carried] });
    expect(await state.init(spec, new Map([['right', 2]]), { done: Buffer.alloc(1), doneCount: 0, merged: [] })).toBe(false);
    expect(await state.doneBits([0, 2])).toEqual([true, false]);
    expect(await state.mergedBlocks()).toEqual(new Set(['left']));
  });
});
