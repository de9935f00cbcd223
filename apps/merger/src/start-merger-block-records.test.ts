import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockRecordBody, FleetQueues, jobIds, outputKeys, parseBlockRecord, RunState, type BlockResult } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { parseMergerEnv } from './env';
import { startMerger, type RunningMerger } from './start-merger';

describe('the merger and block records in storage', () => {
  const redis = createRedisConnection(testRedisUrl());
  let root: string;
  let merger: RunningMerger | undefined;
  let queues: FleetQueues | undefined;
  afterEach(async () => {
    await merger?.close();
    await queues?.close();
    rmSync(root, { recursive: true, force: true });
  });
  afterAll(() => redis.quit());

  it('a block recorded in storage but not in Redis is not merged again; a stored record with failed windows is not trusted', async () => {
    root = mkdtempSync(join(tmpdir(), 'merger-records-'));
    const prefix = uniquePrefix('merger-records');
    // 600 x 300 px: 2 windows, both touching both blocks
    const spec = syntheticRunSpec({
      runId: 'run-m',
      width: 600,
      height: 300,
      createdAt: '2026-11-29T00:00:00Z',
      output: root,
      blocks: [{ id: 'left', x: 0, y: 0, width: 300, height: 300 }, { id: 'right', x: 300, y: 0, width: 300, height: 300 }],
    });
    const state = new RunState(redis, prefix, spec.runId);
    // a third block counted (never merged) keeps the run from being finalised
    await state.init(spec, new Map([['left', 2], ['right', 2], ['third', 1]]));
    // both windows have no data: a merge needs no tile and writes a nodata block
    for (const [index, id] of [[0, 'r0-c0'], [1, 'r0-c1']] as const) await state.completeWindow(index, id, 'skipped', ['left', 'right']);
    const store = new LocalStore(root);
    const recorded: BlockResult = { blockId: 'left', key: outputKeys.block(spec.runId, 'left'), bytes: 99, classPixels: { '1': 90000 }, failedWindows: 0, mergeMs: 12 };
    await store.put(outputKeys.blockRecord(spec.runId, 'left'), blockRecordBody(recorded));
    await store.put(outputKeys.blockRecord(spec.runId, 'right'), blockRecordBody({ ...recorded, blockId: 'right', key: outputKeys.block(spec.runId, 'right'), failedWindows: 2 }));

    merger = await startMerger(testRedisUrl(), parseMergerEnv({ FLEET_QUEUE_PREFIX: prefix, FLEET_KEEP_TILES: '1' }), createLogger('merger'));
    queues = new FleetQueues(redis, prefix);
    for (const blockId of ['left', 'right']) await queues.add('merge-block', { runId: spec.runId, blockId }, jobIds.block(spec.runId, blockId));
    const deadline = Date.now() + 60_000;
    while ((await queues.merge.getCompletedCount()) + (await queues.merge.getFailedCount()) < 2) {
      if (Date.now() > deadline) throw new Error(`merges not done: ${JSON.stringify(await queues.merge.getJobCounts())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await queues.merge.getFailed()).map((j) => [j.id, j.failedReason])).toEqual([]);

    // left: the stored record is taken as it is, recorded in Redis, and no GeoTIFF is written
    expect((await queues.merge.getJob(jobIds.block(spec.runId, 'left')))?.returnvalue).toEqual(recorded);
    expect(existsSync(join(root, outputKeys.block(spec.runId, 'left')))).toBe(false);
    // right: its record had failed windows, so it was merged (its windows had no data: all
    // nodata) and its record replaced by the new result, in storage as in Redis
    expect(existsSync(join(root, outputKeys.block(spec.runId, 'right')))).toBe(true);
    const right = parseBlockRecord('right', await store.get(outputKeys.blockRecord(spec.runId, 'right')));
    expect(right).toMatchObject({ blockId: 'right', failedWindows: 0, classPixels: {} });
    expect((await state.blockResults()).sort((a, b) => a.blockId.localeCompare(b.blockId))).toEqual([recorded, right]);
  }, 90_000);
});
