import { BlockIndex, iterateWindows, planWindows } from '@fleet/grid';
import { outputKeys, RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { encodeMaskTile } from '@fleet/tiles';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import { noisyMaskTile } from '../../../test/support/mask-tile-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { mergeBlock } from './merge-block';

/**
 * The merger's output, pinned: sha256 of the COG each block merges into, and of its decoded
 * pixels (every image: full resolution and overviews). Any change to blending, overviews,
 * compression or layout changes the file hashes; a deliberate change re-records them and
 * says so. The pixel hashes were recorded with the merger as it was before the speed work
 * (issue 13) and must never change: the file hashes were re-recorded once, deliberately, when
 * the output tiles went to run-length Deflate (OUTPUT_DEFLATE), same pixels. With zlib's
 * default strategy the files were wide 85c3c8e4..., narrow 6aaea421... (the speed work kept
 * those bytes until that commit).
 * The tiles disagree between windows (k = 2, ties, nodata), so every branch of the blend runs.
 */
const EXPECTED_SHA256: Record<string, string> = {
  wide: 'e285a641c2805aff13ba1eed0db33a17a266fce07f4e37bc0aa0d63081c49689',
  narrow: '6e202c2ced72559b074640b3cd228292ca8b6b90f6196bf65573ad28f6611b0f',
};
const EXPECTED_PIXELS_SHA256: Record<string, string> = {
  wide: 'dc9f40abdedb6a4c287b2c1d5f9b3a07894918e4768f77e00bc3124cae2f07e5',
  narrow: '0f127131342246a2ab357553fbbf7bd01e226ddb8ff152535d339ee77f8fa3ff',
};

/** sha256 over the decoded pixels of every image of a GeoTIFF, full resolution first. */
async function pixelsSha256(path: string): Promise<string> {
  const tiff = await fromFile(path);
  const hash = createHash('sha256');
  for (let k = 0; k < (await tiff.getImageCount()); k++) {
    const [band] = (await (await tiff.getImage(k)).readRasters()) as unknown as Uint8Array[];
    hash.update(band!);
  }
  return hash.digest('hex');
}

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
      const pixelHashes: Record<string, string> = {};
      for (const block of spec.blocks) {
        await mergeBlock(spec, block, state, store, { fetchParallel: 3 });
        const path = join(dir, outputKeys.block(spec.runId, block.id));
        hashes[block.id] = createHash('sha256').update(await readFile(path)).digest('hex');
        pixelHashes[block.id] = await pixelsSha256(path);
      }
      expect(pixelHashes).toEqual(EXPECTED_PIXELS_SHA256);
      expect(hashes).toEqual(EXPECTED_SHA256);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
