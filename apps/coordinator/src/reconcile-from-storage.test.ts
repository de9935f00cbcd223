import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockIndex, iterateWindows, windowsIntersecting } from '@fleet/grid';
import { blockRecordBody, FleetQueues, outputKeys, RunRestore, RunState, windowPlanOf, type BlockResult, type RunSpec } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { enqueueRun } from './enqueue-run';
import { reconcileFromStorage } from './reconcile-from-storage';

// 1000 x 600 px, 512 px windows with 128 px of overlap: 3 x 2 windows; two blocks side by side
const spec = syntheticRunSpec({
  runId: 'run-r',
  width: 1000,
  height: 600,
  createdAt: '2026-11-29T00:00:00Z',
  output: '/unused',
  blocks: [{ id: 'left', x: 0, y: 0, width: 400, height: 600 }, { id: 'right', x: 400, y: 0, width: 600, height: 600 }],
});
const plan = windowPlanOf(spec);
const index = new BlockIndex(spec.blocks);
const windows = [...iterateWindows(plan)];
const blocksOf = (id: string) => index.touching(windows.find((w) => w.id === id)!);
const windowsPerBlock = new Map(spec.blocks.map((b) => [b.id, windowsIntersecting(plan, b).length]));
const onlyIn = (blockId: string) => windows.filter((w) => index.touching(w).join() === blockId).map((w) => w.id);
const result = (blockId: string, failedWindows = 0): BlockResult => ({ blockId, key: outputKeys.block(spec.runId, blockId), bytes: 10, classPixels: { '1': 4 }, failedWindows, mergeMs: 3 });

describe('reconcileFromStorage: the run state rebuilt from what the output store holds', () => {
  const redis = createRedisConnection(testRedisUrl());
  let root: string;
  let store: LocalStore;
  let queues: FleetQueues;
  let prefix: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'reconcile-'));
    store = new LocalStore(root);
    prefix = uniquePrefix('reconcile');
    queues = new FleetQueues(redis, prefix);
  });
  afterEach(async () => {
    await queues.close();
    rmSync(root, { recursive: true, force: true });
  });
  afterAll(() => redis.quit());

  const putTiles = (ids: readonly string[]) => Promise.all(ids.map((id) => store.put(outputKeys.maskTile(spec.runId, id), Buffer.from(id))));
  const waitingJobIds = async (queue: 'infer' | 'merge') => (await queues[queue].getJobs(['waiting'])).map((j) => j.id).sort();

  it('the fixture: left and right blocks share the middle column of windows', () => {
    expect(windows.map((w) => w.id)).toEqual(['r0-c0', 'r0-c1', 'r0-c2', 'r1-c0', 'r1-c1', 'r1-c2']);
    expect(Object.fromEntries(windowsPerBlock)).toEqual({ left: 4, right: 6 });
    expect(onlyIn('right')).toEqual(['r0-c2', 'r1-c2']);
    expect(blocksOf('r0-c0')).toEqual(['left', 'right']);
  });

  it('a first run with nothing in storage: nothing restored, every window enqueued', async () => {
    const run = await enqueueRun(redis, queues, spec, windowsPerBlock, undefined, { store });
    expect(run).toMatchObject({ created: true, submitted: 6, alreadyDone: 0 });
    expect(run.reconciled).toEqual({ tiles: 0, records: 0, windowsRestored: 0, blocksRestored: 0, mergesEnqueued: 0, finalizeEnqueued: false });
    expect(await new RunRestore(redis, prefix, spec.runId).blockRemaining()).toEqual({ left: 4, right: 6 });
    // a later enqueue of the same run does not list storage again
    expect((await enqueueRun(redis, queues, spec, windowsPerBlock, undefined, { store })).reconciled).toBeUndefined();
  });

  it('after a wipe: windows with a tile are done (not enqueued), blocks with every window done are merged next', async () => {
    // the left block's 4 windows were uploaded before Redis lost the run
    const leftWindows = windows.filter((w) => index.touching(w).includes('left')).map((w) => w.id);
    await putTiles(leftWindows);
    await store.put(`${outputKeys.maskTiles(spec.runId)}junk.txt`, Buffer.from('x')); // not a tile: ignored
    const run = await enqueueRun(redis, queues, spec, windowsPerBlock, undefined, { store });
    expect(run).toMatchObject({ created: true, submitted: 2, alreadyDone: 4 });
    expect(run.reconciled).toEqual({ tiles: 4, records: 0, windowsRestored: 4, blocksRestored: 0, mergesEnqueued: 1, finalizeEnqueued: false });
    expect(await waitingJobIds('infer')).toEqual(onlyIn('right').map((id) => `${spec.runId}.g.${id.slice(1).replace('-c', '-')}`));
    expect(await waitingJobIds('merge')).toEqual([`${spec.runId}.b.left`]);
    const state = new RunState(redis, prefix, spec.runId);
    expect(await new RunRestore(redis, prefix, spec.runId).blockRemaining()).toEqual({ left: 0, right: 2 });
    expect(await state.stats()).toEqual({ windows_done: 4, windows_skipped: 0, windows_failed: 0, windows_restored: 4 });

    // the remaining windows complete as usual: the right block becomes ready exactly then
    expect(await state.completeWindow(2, 'r0-c2', 'done', ['right'])).toEqual([]);
    expect(await state.completeWindow(5, 'r1-c2', 'done', ['right'])).toEqual(['right']);

    // reconciling again (asked explicitly) restores nothing twice
    const again = await reconcileFromStorage(redis, queues, spec, store);
    expect(again).toMatchObject({ tiles: 4, windowsRestored: 0, blocksRestored: 0 });
    expect(await state.stats()).toEqual({ windows_done: 6, windows_skipped: 0, windows_failed: 0, windows_restored: 4 });
  });

  it('a final block record marks the block merged (result restored); windows whose every block is merged are done without tiles', async () => {
    // right merged for good and its own tiles deleted; left merged with a failed window (to be merged again)
    await store.put(outputKeys.blockRecord(spec.runId, 'right'), blockRecordBody(result('right')));
    await store.put(outputKeys.blockRecord(spec.runId, 'left'), blockRecordBody(result('left', 1)));
    await store.put(outputKeys.blockRecord(spec.runId, 'gone'), blockRecordBody(result('gone'))); // not a block of this spec
    await putTiles(['r0-c0', 'r0-c1', 'r1-c1']); // r1-c0 failed before the wipe: no tile
    const run = await enqueueRun(redis, queues, spec, windowsPerBlock, undefined, { store });
    expect(run.reconciled).toEqual({ tiles: 3, records: 1, windowsRestored: 5, blocksRestored: 1, mergesEnqueued: 0, finalizeEnqueued: false });
    expect(run).toMatchObject({ submitted: 1, alreadyDone: 5 });
    expect(await waitingJobIds('infer')).toEqual([`${spec.runId}.g.1-0`]);
    const state = new RunState(redis, prefix, spec.runId);
    expect(await state.blockResults()).toEqual([result('right')]);
    expect(await state.progress()).toMatchObject({ done: 5, blocksMerged: 1 });
    expect(await new RunRestore(redis, prefix, spec.runId).blockRemaining()).toEqual({ left: 1, right: 1 });

    // the failed window runs again; both its blocks report ready (right's merge job then
    // finds the block recorded and only redoes the steps after the record), left merges
    expect(await state.completeWindow(3, 'r1-c0', 'done', blocksOf('r1-c0'))).toEqual(['left', 'right']);
    expect(await state.completeBlock(result('left'))).toBe(0);
  });

  it('every block recorded: the finalisation is enqueued, no window and no merge', async () => {
    for (const b of spec.blocks) await store.put(outputKeys.blockRecord(spec.runId, b.id), blockRecordBody(result(b.id)));
    const run = await enqueueRun(redis, queues, spec, windowsPerBlock, undefined, { store });
    expect(run).toMatchObject({ submitted: 0, alreadyDone: 6 });
    expect(run.reconciled).toMatchObject({ tiles: 0, records: 2, windowsRestored: 6, blocksRestored: 2, mergesEnqueued: 0, finalizeEnqueued: true });
    expect(await waitingJobIds('merge')).toEqual([`${spec.runId}.final`]);
    expect(await new RunState(redis, prefix, spec.runId).progress()).toMatchObject({ done: 6, blocksMerged: 2 });
  });

  it('writes a stray worker and merger made into the wiped Redis before the run was created again are counted once', async () => {
    const state = new RunState(redis, prefix, spec.runId);
    // a worker finishes r0-c2 and a merger records right, while Redis holds no spec: the
    // bit is set and the counters go below zero, then INIT_RUN overwrites the counters
    await putTiles(['r0-c2']);
    expect(await state.completeWindow(2, 'r0-c2', 'done', ['right'])).toEqual([]);
    await store.put(outputKeys.blockRecord(spec.runId, 'right'), blockRecordBody(result('right')));
    expect(await state.completeBlock(result('right'))).toBe(-1);
    const run = await enqueueRun(redis, queues, spec, windowsPerBlock, undefined, { store });
    expect(run).toMatchObject({ created: true });
    expect(run.reconciled).toMatchObject({ tiles: 1, records: 1, blocksRestored: 0 });
    // right is merged: its own windows are done; countdowns and blocks left derive from the sets
    expect(await new RunRestore(redis, prefix, spec.runId).blockRemaining()).toEqual({ left: 4, right: 4 });
    expect(await state.progress()).toMatchObject({ done: 2, blocksMerged: 1 });
    expect(await state.stats()).toEqual({ windows_done: 2, windows_skipped: 0, windows_failed: 0, windows_restored: 1 });
    for (const w of windows.filter((x) => !onlyIn('right').includes(x.id))) await state.completeWindow(w.index, w.id, 'done', index.touching(w));
    expect(await state.completeBlock(result('left'))).toBe(0);
  });

  it('a malformed block record fails the reconcile naming its key', async () => {
    await store.put(outputKeys.blockRecord(spec.runId, 'left'), Buffer.from('{"blockId":"left"}'));
    await expect(reconcileFromStorage(redis, queues, spec, store)).rejects.toThrow(`block record ${outputKeys.blockRecord(spec.runId, 'left')} is malformed: key: `);
  });
});
