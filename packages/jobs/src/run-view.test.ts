import { iterateWindows, regularBlocks } from '@fleet/grid';
import { createRedisConnection } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { markRunFailed } from './run-failure';
import { runKeys } from './run-keys';
import { RunState, type WindowCompletion } from './run-state';
import { UnreadableRunSpec } from './progress-spec';
import { RunView } from './run-view';
import { geometryOf } from './spec-geometry';

/**
 * RunView is the read-only look `fleet status` takes without zod; RunState answers through it
 * (counts, progress) or with the schema-checked spec (blockProgress): both must say the same.
 */
describe('RunView (a run read without zod)', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.disconnect());

  it('answers as RunState does for a run with windows done, skipped, failed and pending, over several blocks', async () => {
    const prefix = uniquePrefix('run-view');
    const spec = syntheticRunSpec({ runId: 'rv-1', width: 2000, height: 1500, blocks: regularBlocks(2000, 1500, 700), groupSide: 2, createdAt: '2026-11-30T06:00:00Z' });
    const state = new RunState(redis, prefix, spec.runId);
    const geometry = geometryOf(spec);
    const perBlock = new Map(spec.blocks.map((b) => [b.id, [...geometry.windowsOfBlock(b)].length]));
    expect(await state.init(spec, perBlock)).toBe(true);
    const windows = [...iterateWindows(geometry.plan)];
    const outcomes: WindowCompletion[] = windows.slice(0, 11).map((w, i) => ({
      index: w.index, windowId: w.id, blocks: geometry.blocksOf(w),
      outcome: i % 4 === 0 ? 'failed' : i % 3 === 0 ? 'skipped' : 'done', ...(i % 4 === 0 ? { failure: `${w.id}: truncated` } : {}),
    }));
    await state.completeWindows(outcomes);
    await markRunFailed(redis, prefix, spec.runId, 'block B-0-0', 'disk full');

    const view = new RunView(redis, prefix, spec.runId);
    const progress = await view.progress();
    expect(progress).toEqual(await state.progress());
    expect(progress).toMatchObject({ runId: 'rv-1', status: 'running', windows: spec.windowCount, done: 5, skipped: 3, failed: 3, blocks: spec.blocks.length, blocksMerged: 0 });
    const blocks = await view.blockProgress();
    expect(blocks).toEqual(await state.blockProgress());
    expect(blocks!.map((b) => b.blockId)).toEqual(spec.blocks.map((b) => b.id));
    expect(blocks!.reduce((n, b) => n + b.failed, 0)).toBeGreaterThanOrEqual(3);
    expect(await view.failures()).toEqual(await state.failures());
    expect(Object.keys(await view.failures())).toHaveLength(3);
    expect(await view.fatalFailures()).toEqual({ 'block B-0-0': 'disk full' });
    expect(await view.createdAt()).toBe(Date.parse('2026-11-30T06:00:00Z'));
  });

  it('answers undefined for a run that is not there', async () => {
    const view = new RunView(redis, uniquePrefix('run-view-none'), 'nope');
    expect([await view.progress(), await view.blockProgress(), await view.createdAt()]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a spec that is not a run spec with one line naming the run and the field', async () => {
    const prefix = uniquePrefix('run-view-bad');
    const spec = syntheticRunSpec({ runId: 'rv-bad', width: 900, height: 900 });
    await redis.set(runKeys(prefix, 'rv-bad').spec, JSON.stringify({ ...spec, blocks: [{ ...spec.blocks[0], width: 0 }] }));
    const view = new RunView(redis, prefix, 'rv-bad');
    await expect(view.progress()).rejects.toThrow('run rv-bad: its spec in Redis is not a run spec: blocks[0].width must be an integer >= 1, got 0');
    await expect(view.blockProgress()).rejects.toThrow(/blocks\[0\]\.width/);
    await expect(view.progress()).rejects.toBeInstanceOf(UnreadableRunSpec);
  });
});
