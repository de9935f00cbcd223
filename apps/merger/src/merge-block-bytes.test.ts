import { BlockIndex, iterateWindows, planWindows } from '@fleet/grid';
import { outputKeys, RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { encodeMaskTile } from '@fleet/tiles';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noisyMaskTile } from '../../../test/support/mask-tile-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { mergeBlock } from './merge-block';

/**
 * The merger's output, pinned: sha256 of the COG each block merges into, recorded with the
 * merger as it was before the speed work (issue 13). Any change to blending, overviews,
 * compression or layout changes these bytes; a deliberate change re-records them and says so.
 * The tiles disagree between windows (k = 2, ties, nodata), so every branch of the blend runs.
 */
const EXPECTED_SHA256: Record<string, string> = {
  wide: '85c3c8e478a68a61f43c7e1ceb5192e678a9541e118636552d9fd04b2b28527a',
  narrow: '6aaea42169e5d696885ceac5f96acd92a1fd66c385822c716a701ce67bf1da64',
};

const WIDTH = 1400;
const HEIGHT = 900;
const CLASSES = [1, 2, 3, 4, 5];

describe('mergeBlock output bytes', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('writes the recorded bytes for a multi-window block with overlaps, edge tiles, nodata and ties', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-merge-bytes-'));
    try {
      const spec = syntheticRunSpec({
        runId: 'run-bytes',
        width: WIDTH,
        height: HEIGHT,
        createdAt: '2026-11-30T00:00:00.000Z',
        geoTransform: [645000, 0.2, 0, 6865000, 0, -0.2],
        model: { location: '/m', name: 'flair-bytes', version: '1', classes: CLASSES.map((id) => ({ id, name: `class ${id}`, color: '#808080' })) },
        output: dir,
        topK: 2,
        // 'wide': 3 x 2 output tiles, the right and bottom ones cut; 'narrow': one cut column, not at the origin
        blocks: [{ id: 'wide', x: 0, y: 0, width: 1100, height: HEIGHT }, { id: 'narrow', x: 1100, y: 0, width: 300, height: HEIGHT }],
      });
      const store = new LocalStore(dir);
      const state = new RunState(redis, uniquePrefix('bytes'), spec.runId);
      const plan = planWindows(WIDTH, HEIGHT, { patch: 512, overlap: 128 });
      const index = new BlockIndex(spec.blocks);
      const windows = [...iterateWindows(plan)];
      const perBlock = new Map<string, number>();
      for (const w of windows) for (const id of index.touching(w)) perBlock.set(id, (perBlock.get(id) ?? 0) + 1);
      await state.init({ ...spec, windowCount: windows.length }, perBlock);
      for (const w of windows) {
        await store.put(outputKeys.maskTile(spec.runId, w.id), encodeMaskTile(noisyMaskTile(plan, w, CLASSES)));
        await state.completeWindow(w.index, w.id, 'done', index.touching(w));
      }
      const hashes: Record<string, string> = {};
      for (const block of spec.blocks) {
        await mergeBlock(spec, block, state, store, { fetchParallel: 3 });
        hashes[block.id] = createHash('sha256').update(await readFile(join(dir, 'blocks', `${block.id}.tif`))).digest('hex');
      }
      expect(hashes).toEqual(EXPECTED_SHA256);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
