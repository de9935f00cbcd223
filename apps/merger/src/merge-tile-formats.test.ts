import { BlockIndex, iterateWindows, planWindows } from '@fleet/grid';
import { outputKeys, RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { decodeMaskTile, encodeMaskTile } from '@fleet/tiles';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, constants as zlibConstants, deflateSync } from 'node:zlib';
import { noisyMaskTile } from '../../../test/support/mask-tile-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { mergeBlock } from './merge-block';

/**
 * A run resumed across the mask tile format change (issue 13: format 1, zlib, before; format 2,
 * brotli and a CRC-32, after) holds tiles of both formats: the merger must merge them into the
 * same bytes as a run written in format 2 alone.
 */

/** Format 1 bytes of a format 2 tile, as the encoder before issue 13 wrote them: 18-byte header, version 1, zlib Z_RLE body. */
function formatOne(formatTwo: Buffer): Buffer {
  const header = Buffer.from(formatTwo.subarray(0, 18));
  header.writeUInt8(1, 4);
  const body = brotliDecompressSync(formatTwo.subarray(22));
  return Buffer.concat([header, deflateSync(body, { level: 6, strategy: zlibConstants.Z_RLE })]);
}

const WIDTH = 800;
const HEIGHT = 600;
const CLASSES = [1, 2, 3, 4, 5];

describe('mergeBlock over mask tiles of both formats', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  async function mergedSha256(mixed: boolean): Promise<{ sha256: string; formatOneTiles: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-merge-formats-'));
    try {
      const spec = syntheticRunSpec({
        runId: 'formats', // the same in both runs: the block's metadata names it
        width: WIDTH,
        height: HEIGHT,
        output: dir,
        topK: 2,
        model: { location: '/m', name: 'flair-formats', version: '1', classes: CLASSES.map((id) => ({ id, name: `class ${id}`, color: '#808080' })) },
      });
      const store = new LocalStore(dir);
      const state = new RunState(redis, uniquePrefix('formats'), spec.runId);
      const plan = planWindows(WIDTH, HEIGHT, { patch: 512, overlap: 128 });
      const index = new BlockIndex(spec.blocks);
      const windows = [...iterateWindows(plan)];
      const perBlock = new Map<string, number>();
      for (const w of windows) for (const id of index.touching(w)) perBlock.set(id, (perBlock.get(id) ?? 0) + 1);
      await state.init({ ...spec, windowCount: windows.length }, perBlock);
      let formatOneTiles = 0;
      for (const w of windows) {
        const tile = noisyMaskTile(plan, w, CLASSES);
        let bytes = encodeMaskTile(tile);
        if (mixed && w.index % 2 === 0) {
          bytes = formatOne(bytes);
          // the converted tile is a genuine format 1 tile of the same content
          expect(bytes.readUInt8(4)).toBe(1);
          expect(decodeMaskTile(bytes, w.id)).toEqual(tile);
          formatOneTiles++;
        }
        await store.put(outputKeys.maskTile(spec.runId, w.id), bytes);
        await state.completeWindow(w.index, w.id, 'done', index.touching(w));
      }
      const block = spec.blocks[0]!;
      await mergeBlock(spec, block, state, store, { fetchParallel: 3 });
      const sha256 = createHash('sha256').update(await readFile(join(dir, outputKeys.block(spec.runId, block.id)))).digest('hex');
      return { sha256, formatOneTiles };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('merges format 1 and format 2 tiles into the same bytes as format 2 tiles alone', async () => {
    const two = await mergedSha256(false);
    const mixed = await mergedSha256(true);
    expect(two.formatOneTiles).toBe(0);
    expect(mixed.formatOneTiles).toBeGreaterThanOrEqual(2);
    expect(mixed.sha256).toBe(two.sha256);
  }, 120_000);
});
