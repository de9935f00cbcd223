import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetQueues, RunState, type RunSpec } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { enqueueRun } from './enqueue-run';

// 1000 x 600 px, 512 px windows with 128 px of overlap: columns at 0, 384, 488, rows at 0, 88.
// The changed pixels (x >= 600) meet columns 1 and 2: 4 windows inferred again, column 0's two carried;
// block "left" (x < 400) is carried over, "right" waits for its 4 re-inferred windows.
const refreshSpec = (output: string): RunSpec => ({
  ...syntheticRunSpec({
    runId: 'run-refresh',
    width: 1000,
    height: 600,
    createdAt: '2026-11-30T00:00:00Z',
    output,
    blocks: [{ id: 'left', x: 0, y: 0, width: 400, height: 600 }, { id: 'right', x: 400, y: 0, width: 600, height: 600 }],
    windowCount: 4,
  }),
  refresh: {
    previousRunId: 'run-before',
    changedPixels: [{ x: 600, y: 0, width: 400, height: 600 }],
    remerge: [{ blockId: 'right', waits: 4, previousKey: 'blocks/right.tif' }],
    carried: [{ blockId: 'left', key: 'blocks/left.tif', bytes: 77, classPixels: { '2': 240000 } }],
    carriedWindows: 2,
  },
});

describe('enqueueRun of a refresh', () => {
  const redis = createRedisConnection(testRedisUrl());
  let root: string;
  let queues: FleetQueues;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'enqueue-refresh-'));
    queues = new FleetQueues(redis, uniquePrefix('enqueue-refresh'));
  });
  afterEach(async () => {
    await queues.close();
    rmSync(root, { recursive: true, force: true });
  });
  afterAll(() => redis.quit());

  const inferJobs = async () => (await queues.infer.getJobs(['waiting'])).map((j) => j.id).sort();

  it('enqueues only the groups holding re-inferred windows, records the carried block merged, and resumes, or rebuilds after a wipe, to the same state', async () => {
    const spec = refreshSpec(root);
    const store = new LocalStore(root);
    const first = await enqueueRun(redis, queues, spec, new Map([['right', 4]]), undefined, { store });
    expect(first).toMatchObject({ created: true, submitted: 4, alreadyDone: 0, groups: 4 });
    const jobs = await inferJobs();
    // one-window groups: column 0's are carried and never enqueued
    expect(jobs).toEqual(['run-refresh.g.0-1', 'run-refresh.g.0-2', 'run-refresh.g.1-1', 'run-refresh.g.1-2']);
    expect(await queues.merge.getJobs(['waiting'])).toEqual([]);
    const state = new RunState(redis, queues.prefix, spec.runId);
    expect(await state.progress()).toMatchObject({ windows: 4, done: 0, blocks: 2, blocksMerged: 1 });
    expect(await state.blockResults()).toEqual([{ blockId: 'left', key: 'blocks/left.tif', bytes: 77, classPixels: { '2': 240000 }, failedWindows: 0, mergeMs: 0 }]);

    // the same command again (a resume): nothing new
    const again = await enqueueRun(redis, queues, spec, new Map([['right', 4]]), undefined, { store });
    expect(again).toMatchObject({ created: false, submitted: 4, alreadyDone: 0 });
    expect(await inferJobs()).toEqual(jobs);

    // Redis lost the run: created again from the same spec, reconciled from storage, same state
    await redis.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do redis.call('DEL', k) end`, 0, queues.prefix);
    const rebuilt = await enqueueRun(redis, queues, spec, new Map([['right', 4]]), undefined, { store });
    expect(rebuilt).toMatchObject({ created: true, submitted: 4, alreadyDone: 0 });
    expect(await state.progress()).toMatchObject({ windows: 4, done: 0, blocksMerged: 1 });
    expect(await inferJobs()).toEqual(jobs);
    expect(await queues.merge.getJobs(['waiting'])).toEqual([]);
  });
});
