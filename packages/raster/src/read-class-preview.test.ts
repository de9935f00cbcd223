import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalFileReader } from './local-file-reader';
import { modeDownsample2x2 } from './mode-downsample';
import { readClassPreview } from './read-class-preview';
import { syntheticPlanes, withTempDir } from './test-support';
import { writeCog } from './write-cog';

const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;

describe('readClassPreview', () => {
  it('reads the overview that matches the preview size, and reads fewer bytes for smaller previews', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'block.tif');
      const plane = syntheticPlanes(1300, 900, 1)[0]!.map((v) => v % 6);
      await writeCog(path, { width: 1300, height: 900, tileSize: 256, geoTransform: GT, epsg: 2154, noData: 0 }, plane);
      const half = modeDownsample2x2(plane, 1300, 900);
      const quarter = modeDownsample2x2(half, 650, 450);

      const opened: LocalFileReader[] = [];
      const counting = (reader: LocalFileReader) => {
        opened.push(reader);
        let bytes = 0;
        return { reader: { name: reader.name, size: () => reader.size(), read: (o: number, l: number) => { bytes += l; return reader.read(o, l); } }, bytes: () => bytes };
      };
      const small = counting(new LocalFileReader(path));
      expect(Buffer.from(await readClassPreview(small.reader, 325, 225)).equals(Buffer.from(quarter))).toBe(true);
      const full = counting(new LocalFileReader(path));
      expect(Buffer.from(await readClassPreview(full.reader, 1300, 900)).equals(Buffer.from(plane))).toBe(true);
      expect(small.bytes() * 4).toBeLessThan(full.bytes());

      // between levels: nearest samples of the next larger image (650x450)
      const between = new LocalFileReader(path);
      opened.push(between);
      const preview = await readClassPreview(between, 400, 300);
      expect(preview.length).toBe(400 * 300);
      expect(preview[0]).toBe(half[0]);
      for (const r of opened) await r.close();
    });
  });

  it('names the file when it is not a TIFF, and refuses an empty size', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'not.tif');
      await writeFile(path, 'hello, this is no tiff at all');
      const reader = new LocalFileReader(path);
      await expect(readClassPreview(reader, 10, 10)).rejects.toThrow(`${path}: cannot read the TIFF header`);
      await expect(readClassPreview(reader, 0, 10)).rejects.toThrow(`${path}: preview size must be positive integers, got 0x10`);
      await reader.close();
    });
  });
});
