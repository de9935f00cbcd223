import type { PlannedWindow } from '@fleet/grid';
import { FleetQueues, geometryOf, RunState } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec, SYNTHETIC_MODEL } from '../../../test/support/run-spec-fixture';
import { GroupProcessor, type WindowRunner } from './group-processor';
import { RunContexts } from './run-context';
import { groupConcurrency } from './group-concurrency';
import { WindowLimiter } from './window-limiter';

// 2000 x 1000 px, patch 512, overlap 128: 5 x 3 windows; groups of 2 x 2 -> 3 x 2 groups
const spec = syntheticRunSpec({
  runId: 'run-g',
  width: 2000,
  height: 1000,
  sourceLocation: '/nonexistent',
  model: { ...SYNTHETIC_MODEL, location: '/models/none', name: 'none' },
  output: '/tmp/fleet-group-processor-test-out',
  blocks: [{ id: 'west', x: 0, y: 0, width: 1000, height: 1000 }, { id: 'east', x: 1000, y: 0, width: 1000, height: 1000 }],
  groupSide: 2,
});
const geometry = geometryOf(spec);

describe('GroupProcessor', () => {
  const redis = createRedisConnection(testRedisUrl());
  const log = createLogger('test');
  afterAll(() => redis.quit());

  async function setUp(name: string, runWindow: WindowRunner, limit = 8, recordEvery = 2) {
    const prefix = uniquePrefix(name);
    const state = new RunState(redis, prefix, spec.runId);
    await state.init(spec, geometry.windowsPerBlock());
    const queues = new FleetQueues(redis, prefix);
    const contexts = new RunContexts(redis, prefix);
    // what the worker's metrics are told: one entry per window finished by this job
    const told: string[] = [];
    const processor = new GroupProcessor(contexts, runWindow, new WindowLimiter(limit), queues, log, recordEvery, (runId, outcome) => told.push(`${runId} ${outcome}`));
    const cleanup = async () => {
      await queues.merge.obliterate({ force: true });
      await contexts.close();
      await queues.close();
    };
    return { state, queues, processor, cleanup, told };
  }

  it('runs every window of a group once, records them, and a re-delivered group skips them', async () => {
    const ran: string[] = [];
    const { state, processor, cleanup, told } = await setUp('group', async (_ctx, w) => {
      ran.push(w.id);
      return { outcome: w.id === 'r0-c1' ? 'skipped' : 'done', stats: { tileBytes: 10 } };
    });
    try {
      expect(await processor.process({ runId: spec.runId, group: { row: 0, col: 0 } }, { lastAttempt: false })).toEqual({
        windows: 4, alreadyDone: 0, done: 3, skipped: 1, failed: 0, readyBlocks: [],
      });
      expect(ran.sort()).toEqual(['r0-c0', 'r0-c1', 'r1-c0', 'r1-c1']);
      expect(await state.stats()).toEqual({ windows_done: 3, windows_skipped: 1, windows_failed: 0, tileBytes: 40 });
      ran.length = 0;
      expect(await processor.process({ runId: spec.runId, group: { row: 0, col: 0 } }, { lastAttempt: false })).toMatchObject({ alreadyDone: 4, done: 0 });
      expect(ran).toEqual([]);
      // windows found done are not counted again
      expect(told.sort()).toEqual(['run-g done', 'run-g done', 'run-g done', 'run-g skipped']);
    } finally {
      await cleanup();
    }
  });

  it('enqueues the merge of a block once its last window is recorded, and again after a lost enqueue', async () => {
    const { state, queues, processor, cleanup } = await setUp('merge', async () => ({ outcome: 'done', stats: {} }));
    try {
      // west (x < 1000) is fed by window columns 0..2: groups col 0 and col 1 (window col 2 is in group col 1)
      const results = [];
      for (const group of geometry.groups()) results.push(await processor.process({ runId: spec.runId, group }, { lastAttempt: false }));
      expect(results.flatMap((r) => r.readyBlocks).sort()).toEqual(['east', 'west']);
      expect((await queues.merge.getWaiting()).map((j) => j.id).sort()).toEqual(['run-g.b.east', 'run-g.b.west']);
      expect((await state.progress())?.done).toBe(15);
      // a worker that died after recording but before enqueueing: the merge job is missing;
      // the group, delivered again, reports its ready blocks and enqueues the merge again
      await queues.merge.obliterate({ force: true });
      expect((await processor.process({ runId: spec.runId, group: { row: 0, col: 1 } }, { lastAttempt: false })).readyBlocks.sort()).toEqual(['east', 'west']);
      expect((await queues.merge.getWaiting()).map((j) => j.id).sort()).toEqual(['run-g.b.east', 'run-g.b.west']);
    } finally {
      await cleanup();
    }
  });

  it('records a permanent failure and goes on; a transient one throws after the others, then retries only it', async () => {
    let flaky = true;
    const runs: string[] = [];
    const { state, processor, cleanup, told } = await setUp('fail', async (_ctx, w: PlannedWindow) => {
      runs.push(w.id);
      if (w.id === 'r0-c0') throw Object.assign(new Error('a.tif: corrupt tile'), { permanent: true });
      if (w.id === 'r1-c1' && flaky) throw new Error('socket hang up');
      return { outcome: 'done', stats: {} };
    });
    try {
      const group = { runId: spec.runId, group: { row: 0, col: 0 } };
      await expect(processor.process(group, { lastAttempt: false })).rejects.toThrow('1 window(s) of group 0-0 failed, first r1-c1: socket hang up');
      expect(await state.doneBits([0, 1, 5, 6])).toEqual([true, true, true, false]);
      expect(await state.failures()).toEqual({ 'r0-c0': 'a.tif: corrupt tile' });
      // the transient failure is not a window finished: it is told nothing until recorded
      expect(told.sort()).toEqual(['run-g done', 'run-g done', 'run-g failed']);
      runs.length = 0;
      // the retry runs only the window left, and this time it fails for good: recorded failed
      await expect(processor.process(group, { lastAttempt: true })).rejects.toThrow(/socket hang up/);
      expect(runs).toEqual(['r1-c1']);
      expect(await state.failures()).toEqual({ 'r0-c0': 'a.tif: corrupt tile', 'r1-c1': 'socket hang up' });
      expect(await state.stats()).toMatchObject({ windows_done: 2, windows_failed: 2 });
      expect(told.sort()).toEqual(['run-g done', 'run-g done', 'run-g failed', 'run-g failed']);
      flaky = false;
      await expect(processor.process({ runId: spec.runId, group: { row: 5, col: 0 } }, { lastAttempt: false })).rejects.toMatchObject({
        permanent: true, message: "group 5-0 of run run-g is outside the run's plan (2 x 3 groups)",
      });
    } finally {
      await cleanup();
    }
  });

  it('keeps at most the limiter\'s windows in flight across the groups in hand', async () => {
    let inFlight = 0;
    let most = 0;
    const { processor, cleanup } = await setUp('limit', async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { outcome: 'done', stats: {} };
    }, 3);
    try {
      await Promise.all([...geometry.groups()].map((group) => processor.process({ runId: spec.runId, group }, { lastAttempt: false })));
      expect(most).toBe(3);
    } finally {
      await cleanup();
    }
  });
});

describe('groupConcurrency', () => {
  it('holds enough groups to fill the windows in flight, plus one, and no more', () => {
    expect(groupConcurrency(8, 1)).toBe(8);
    expect(groupConcurrency(8, 4)).toBe(3);
    expect(groupConcurrency(8, 16)).toBe(2);
    expect(groupConcurrency(8, 64)).toBe(2);
  });
});
