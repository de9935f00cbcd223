import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CogWriter } from './cog-writer';
import { withTempDir } from './test-support';

/**
 * CogWriter's output, pinned: sha256 of two COGs recorded with the writer as it was before the
 * merger's speed work (issue 13). Overviews (2x2 mode), Deflate and the layout must keep
 * these bytes; a deliberate change (e.g. another deflate level) re-records them and says so.
 */
const EXPECTED_SHA256: Record<string, string> = {
  'tile 128, 3 overviews': 'a6ab22066a274ec2b041b3a44e9562a7a6b2d43805adbce955a2138f66b4591a',
  'tile 512, 2 overviews': 'f1e03d92d6188953f9cbc2a41c9aee0d316d74d7faf78442163016311ef54aff',
};

/** Classes 0..6 in 40 px blobs with hashed speckle: mode ties, nodata cells, runs and noise. */
function classAt(x: number, y: number): number {
  const h = (Math.imul(x, 73856093) ^ Math.imul(y, 19349663)) >>> 0;
  if (h % 5 === 0) return h % 7;
  return (Math.floor(x / 40) * 3 + Math.floor(y / 40) * 5) % 7;
}

async function cogSha256(dir: string, width: number, height: number, tileSize: number): Promise<string> {
  const path = join(dir, `${width}x${height}-${tileSize}.tif`);
  const writer = await CogWriter.create(path, {
    width, height, tileSize, geoTransform: [651000, 0.2, 0, 6862000, 0, -0.2], epsg: 2154, noData: 0,
    colorMap: [[0, 0, 0], [219, 14, 154], [147, 142, 123], [248, 12, 0], [169, 113, 1], [21, 83, 174], [25, 74, 38]],
    metadata: { FLAIR_RUN: 'bytes' }, bandDescriptions: ['FLAIR land-cover class'],
  });
  const tile = new Uint8Array(tileSize * tileSize);
  for (let ty = 0; ty < writer.tilesDown; ty++) {
    for (let tx = 0; tx < writer.tilesAcross; tx++) {
      for (let y = 0; y < tileSize; y++) for (let x = 0; x < tileSize; x++) tile[y * tileSize + x] = classAt(tx * tileSize + x, ty * tileSize + y);
      await writer.writeTile(tx, ty, tile);
    }
  }
  await writer.close();
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('CogWriter output bytes', () => {
  it('writes the recorded bytes (edge tiles, several overview levels, odd sizes)', async () => {
    await withTempDir(async (dir) => {
      expect({
        'tile 128, 3 overviews': await cogSha256(dir, 1000, 701, 128),
        'tile 512, 2 overviews': await cogSha256(dir, 1100, 1300, 512),
      }).toEqual(EXPECTED_SHA256);
    });
  });
});
