import { createRedisConnection } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { FleetQueues } from './queues';
import { jobIds, parsePayload } from './job-catalogue';
import { BLOCK_NOT_READY, RunState } from './run-state';
import { geometryOf } from './spec-geometry';

// windowCount 4 (not the plan's 6): the state counts what the spec says
const spec = syntheticRunSpec({
  runId: 'run-a',
  width: 1000,
  height: 600,
  createdAt: '2026-11-24T00:00:00Z',
  blocks: [{ id: 'left', x: 0, y: 0, width: 500, height: 600 }, { id: 'right', x: 500, y: 0, width: 500, height: 600 }],
  windowCount: 4,
});

describe('RunState', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('initialises once and counts windows down per block, once per window', async () => {
    const state = new RunState(redis, uniquePrefix('state'), 'run-a');
    expect(await state.init(spec, new Map([['left', 2], ['right', 3]]))).toBe(true);
    expect(await state.init(spec, new Map([['left', 99]]))).toBe(false);
    expect((await state.spec())?.blocks).toHaveLength(2);

    expect(await state.completeWindow(0, 'r0-c0', 'done', ['left'], { tileBytes: 100 })).toEqual([]);
    // a window on the block edge feeds both blocks
    expect(await state.completeWindow(1, 'r0-c1', 'done', ['left', 'right'], { tileBytes: 50 })).toEqual(['left']);
    // a retry of a finished window changes nothing but still reports its ready blocks
    expect(await state.completeWindow(1, 'r0-c1', 'done', ['left', 'right'], { tileBytes: 50 })).toEqual(['left']);
    expect(await state.completeWindow(2, 'r1-c1', 'skipped', ['right'])).toEqual([]);
    expect(await state.completeWindow(3, 'r1-c2', 'failed', ['right'], {}, 'a.tif: truncated')).toEqual(['right']);

    expect(await state.stats()).toEqual({ windows_done: 2, windows_skipped: 1, windows_failed: 1, tileBytes: 150 });
    expect(await state.windowFlags(2)).toEqual({ skipped: true, failed: false });
    expect(await state.windowFlags(3)).toEqual({ skipped: false, failed: true });
    expect(await state.countFailed([{ index: 0 }, { index: 2 }, { index: 3 }, { index: 40 }])).toBe(1);
    expect(await state.failures()).toEqual({ 'r1-c2': 'a.tif: truncated' });
    expect(await state.isWindowDone(3)).toBe(true);

    const result = { key: 'k', bytes: 1, classPixels: { '1': 5 }, failedWindows: 0, mergeMs: 1 };
    expect(await state.completeBlock({ ...result, blockId: 'left' })).toBe(1);
    expect(await state.completeBlock({ ...result, blockId: 'left' })).toBe(1);
    expect(await state.completeBlock({ ...result, blockId: 'right' })).toBe(0);
    expect((await state.progress())).toMatchObject({ windows: 4, done: 2, skipped: 1, failed: 1, blocks: 2, blocksMerged: 2, status: 'running' });
    await state.finish({ ok: true }, 4);
    expect((await state.progress())?.status).toBe('done');
  });

  // a merger or a finalisation that outlived a Redis losing its last second of writes must not
  // record what Redis no longer backs: the run would be done with windows about to run again
  it('records a block merged, and marks the run done, only while Redis counts every window done', async () => {
    const state = new RunState(redis, uniquePrefix('state-ready'), 'run-a');
    await state.init(spec, new Map([['left', 2], ['right', 3]]));
    const result = { key: 'k', bytes: 1, classPixels: {}, failedWindows: 0, mergeMs: 1 };
    await state.completeWindow(0, 'r0-c0', 'done', ['left']);
    expect(await state.blockWindowsLeft('left')).toBe(1);
    expect(await state.completeBlock({ ...result, blockId: 'left' })).toBe(BLOCK_NOT_READY);
    expect([await state.mergedBlocks(), await state.blockResults()]).toEqual([new Set(), []]);
    expect(await state.finish({ ok: true }, 4)).toEqual({ windows: 3, blocks: 2 });
    await state.completeWindow(1, 'r0-c1', 'done', ['left', 'right']);
    expect(await state.blockWindowsLeft('left')).toBe(0);
    expect(await state.completeBlock({ ...result, blockId: 'left' })).toBe(1);
    await state.completeWindow(2, 'r1-c1', 'done', ['right']);
    await state.completeWindow(3, 'r1-c2', 'done', ['right']);
    expect(await state.completeBlock({ ...result, blockId: 'right' })).toBe(0);
    expect(await state.outstanding(4)).toEqual({ windows: 0, blocks: 0 });
    // a window the spec counts that Redis does not: still refused
    expect(await state.finish({ ok: true }, 5)).toEqual({ windows: 1, blocks: 0 });
    expect([(await state.progress())?.status, await state.report()]).toEqual(['running', undefined]);
    expect(await state.finish({ ok: true }, 4)).toEqual({ windows: 0, blocks: 0 });
    expect([(await state.progress())?.status, await state.report()]).toEqual(['done', { ok: true }]);
  });

  it('a refresh: carried windows are done from the start but do not finish the run, and each block counts its own', async () => {
    const state = new RunState(redis, uniquePrefix('state-carried'), 'run-a');
    // the plan's 6 windows: 0 and 3 carried from the previous run, 1 and 2 to infer (windowCount 2)
    const carried = Buffer.from([0b1001_0000]);
    await state.init({ ...spec, windowCount: 2 }, new Map([['left', 1], ['right', 2]]), { done: carried, doneCount: 2, merged: [] });
    expect(await state.outstanding(2)).toEqual({ windows: 2, blocks: 2 });
    expect(await state.finish({}, 2)).toEqual({ windows: 2, blocks: 2 });
    const geometry = geometryOf(spec);
    const expected = (block: (typeof spec.blocks)[number]) => geometry.windowsOfBlock(block).filter((w) => w.index === 0 || w.index === 3).length;
    expect((await state.blockProgress())!.map((b) => [b.blockId, b.carried, b.done])).toEqual(spec.blocks.map((b) => [b.id, expected(b), 0]));
    expect(expected(spec.blocks[0]!) + expected(spec.blocks[1]!)).toBeGreaterThanOrEqual(2);
    await state.completeWindow(1, 'r0-c1', 'done', ['left', 'right']);
    expect(await state.completeWindow(2, 'r0-c2', 'done', ['right'])).toEqual(['right']);
    const result = { key: 'k', bytes: 1, classPixels: {}, failedWindows: 0, mergeMs: 1 };
    await state.completeBlock({ ...result, blockId: 'left' });
    expect(await state.completeBlock({ ...result, blockId: 'right' })).toBe(0);
    expect(await state.progress()).toMatchObject({ windows: 2, done: 2, status: 'running' });
    expect(await state.finish({}, 2)).toEqual({ windows: 0, blocks: 0 });
    const blocks = (await state.blockProgress())!;
    // the plan's windows 4 and 5 are outside this artificial run's count: still pending
    const beyond = (block: (typeof spec.blocks)[number]) => geometry.windowsOfBlock(block).filter((w) => w.index > 3).length;
    expect(blocks.map((b) => [b.blockId, b.carried, b.pending])).toEqual(spec.blocks.map((b) => [b.id, expected(b), beyond(b)]));
  });
});

describe('RunState per-block progress and retry of failed windows', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  // 1000 x 600 px, patch 512, overlap 128: windows at x = 0, 384, 488 and y = 0, 88 (6 windows,
  // indices row * 3 + col); every window reaches across x = 500, so feeds both blocks
  const blocksOf = (_col: number) => ['left', 'right'];
  const windowId = (i: number) => `r${Math.floor(i / 3)}-c${i % 3}`;

  it('counts windows per block, lists failed windows, and resets only failed ones', async () => {
    const state = new RunState(redis, uniquePrefix('retry'), 'run-a');
    await state.init({ ...spec, windowCount: 6 }, new Map([['left', 6], ['right', 6]]));
    expect(await state.blockProgress()).toEqual([
      { blockId: 'left', windows: 6, done: 0, carried: 0, skipped: 0, failed: 0, pending: 6, merged: false },
      { blockId: 'right', windows: 6, done: 0, carried: 0, skipped: 0, failed: 0, pending: 6, merged: false },
    ]);
    for (const i of [0, 1, 3, 4]) await state.completeWindow(i, windowId(i), 'done', blocksOf(i % 3));
    await state.completeWindow(2, 'r0-c2', 'skipped', blocksOf(2));
    expect(await state.completeWindow(5, 'r1-c2', 'failed', blocksOf(2), {}, 'b.tif: unsupported compression')).toEqual(['left', 'right']);
    const result = { key: 'k', bytes: 1, classPixels: {}, failedWindows: 1, mergeMs: 1 };
    await state.completeBlock({ ...result, blockId: 'left' });
    expect(await state.completeBlock({ ...result, blockId: 'right' })).toBe(0);
    await state.finish({ complete: false }, 6);
    expect(await state.blockProgress()).toEqual([
      { blockId: 'left', windows: 6, done: 4, carried: 0, skipped: 1, failed: 1, pending: 0, merged: true },
      { blockId: 'right', windows: 6, done: 4, carried: 0, skipped: 1, failed: 1, pending: 0, merged: true },
    ]);

    const failed = await state.failedWindows();
    expect(failed.map((f) => [f.window.id, f.window.index, f.window.x, f.window.y, f.group, f.blocks, f.error])).toEqual([
      ['r1-c2', 5, 488, 88, { row: 1, col: 2 }, ['left', 'right'], 'b.tif: unsupported compression'],
    ]);
    expect(await state.resetFailed(failed)).toEqual({ reset: 1, blocks: ['left', 'right'] });
    // a second retry finds nothing failed and changes nothing
    expect(await state.resetFailed(failed)).toEqual({ reset: 0, blocks: [] });
    expect(await state.failedWindows()).toEqual([]);
    expect(await state.progress()).toMatchObject({ status: 'running', done: 4, skipped: 1, failed: 0, blocksMerged: 0 });
    expect(await state.blockProgress()).toEqual([
      { blockId: 'left', windows: 6, done: 4, carried: 0, skipped: 1, failed: 0, pending: 1, merged: false },
      { blockId: 'right', windows: 6, done: 4, carried: 0, skipped: 1, failed: 0, pending: 1, merged: false },
    ]);
    expect(await state.blockResults()).toEqual([]);

    // the retried window succeeds: both blocks are ready again, and the run needs both merges
    expect(await state.completeWindow(5, 'r1-c2', 'done', blocksOf(2))).toEqual(['left', 'right']);
    expect(await state.completeBlock({ ...result, failedWindows: 0, blockId: 'left' })).toBe(1);
    expect(await state.completeBlock({ ...result, failedWindows: 0, blockId: 'right' })).toBe(0);
    expect(await state.stats()).toEqual({ windows_done: 5, windows_skipped: 1, windows_failed: 0 });
  });

  it('has no block progress for an unknown run', async () => {
    expect(await new RunState(redis, uniquePrefix('retry'), 'run-none').blockProgress()).toBeUndefined();
  });
});

describe('RunState bulk completion', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('records many windows in one call, once each, and never adds the stats of a duplicate', async () => {
    const state = new RunState(redis, uniquePrefix('bulk'), 'run-a');
    await state.init(spec, new Map([['left', 2], ['right', 3]]));
    const ready = await state.completeWindows([
      { index: 0, windowId: 'r0-c0', outcome: 'done', blocks: ['left'], stats: { tileBytes: 100, readMs: 2.4 } },
      { index: 1, windowId: 'r0-c1', outcome: 'done', blocks: ['left', 'right'], stats: { tileBytes: 50 } },
      { index: 2, windowId: 'r1-c1', outcome: 'skipped', blocks: ['right'] },
    ]);
    expect(ready).toEqual(['left']);
    expect(await state.doneBits([0, 1, 2, 3, 5000])).toEqual([true, true, true, false, false]);
    // a retried group re-sends done windows: nothing changes, ready blocks are reported once
    expect(await state.completeWindows([
      { index: 0, windowId: 'r0-c0', outcome: 'done', blocks: ['left'], stats: { tileBytes: 100 } },
      { index: 1, windowId: 'r0-c1', outcome: 'done', blocks: ['left', 'right'], stats: { tileBytes: 50 } },
      { index: 3, windowId: 'r1-c2', outcome: 'failed', blocks: ['right'], failure: 'c.tif: truncated' },
      // the same window twice in one call counts once
      { index: 3, windowId: 'r1-c2', outcome: 'failed', blocks: ['right'], failure: 'c.tif: truncated' },
    ])).toEqual(['left', 'right']);
    expect(await state.stats()).toEqual({ windows_done: 2, windows_skipped: 1, windows_failed: 1, tileBytes: 150, readMs: 2 });
    expect(await state.failures()).toEqual({ 'r1-c2': 'c.tif: truncated' });
    expect(await state.completeWindows([])).toEqual([]);
  });

  it('splits a call whose windows feed more blocks than one call can name', async () => {
    const state = new RunState(redis, uniquePrefix('many'), 'run-a');
    const ids = Array.from({ length: 200 }, (_, i) => `blk${i}`);
    await state.init({ ...spec, blocks: ids.map((id, i) => ({ id, x: i, y: 0, width: 1, height: 1 })) }, new Map(ids.map((id) => [id, 1])));
    const windows = ids.map((id, i) => ({ index: i, windowId: `r0-c${i}`, outcome: 'done' as const, blocks: [id] }));
    expect(await state.completeWindows(windows)).toEqual(ids);
    expect(await state.progress()).toMatchObject({ done: 200 });
  });

  it('calls its scripts by SHA and reloads them after SCRIPT FLUSH', async () => {
    const own = createRedisConnection(testRedisUrl());
    try {
      const state = new RunState(own, uniquePrefix('sha'), 'run-a');
      await state.init(spec, new Map([['left', 1], ['right', 1]]));
      await own.script('FLUSH');
      expect(await state.completeWindow(0, 'r0-c0', 'done', ['left', 'right'])).toEqual(['left', 'right']);
      const before = Number(/calls=(\d+)/.exec((await own.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:')) ?? 'calls=0')![1]);
      await state.completeWindow(0, 'r0-c0', 'done', ['left', 'right']);
      const after = Number(/calls=(\d+)/.exec((await own.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:'))!)![1]);
      expect(after).toBeGreaterThan(before);
    } finally {
      own.disconnect();
    }
  });
});

describe('FleetQueues', () => {
  it('validates payloads and ignores a second add of the same job id', async () => {
    const prefix = uniquePrefix('queues');
    const queues = new FleetQueues({ url: testRedisUrl() }, prefix);
    try {
      await queues.addGroups('run-a', [{ row: 0, col: 0 }, { row: 0, col: 1 }]);
      await queues.addGroups('run-a', [{ row: 0, col: 0 }]);
      await queues.add('merge-block', { runId: 'run-a', blockId: 'left' }, jobIds.block('run-a', 'left'));
      await queues.add('merge-block', { runId: 'run-a', blockId: 'left' }, jobIds.block('run-a', 'left'));
      expect(await queues.infer.getJobCounts('waiting')).toMatchObject({ waiting: 2 });
      expect(await queues.merge.getJobCounts('waiting')).toMatchObject({ waiting: 1 });
      expect((await queues.infer.getJob('run-a.g.0-1'))?.data).toEqual({ runId: 'run-a', group: { row: 0, col: 1 } });
      // fleet retry removes a group's job before adding it again
      await queues.removeGroups('run-a', [{ row: 0, col: 1 }]);
      expect(await queues.infer.getJob('run-a.g.0-1')).toBeUndefined();
      await expect(queues.add('merge-block', { runId: 'bad:id', blockId: 'x' } as never, 'x')).rejects.toThrow(
        /^invalid merge-block payload: runId: run id/,
      );
      expect(() => parsePayload('infer-group', { runId: 'r', group: { row: -1, col: 0 } })).toThrow(/^invalid infer-group payload: group\.row: /);
    } finally {
      await queues.infer.obliterate({ force: true });
      await queues.merge.obliterate({ force: true });
      await queues.close();
    }
  });
});
