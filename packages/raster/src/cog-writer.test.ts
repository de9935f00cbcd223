import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromFile } from 'geotiff';
import { CogWriter, type CogWriteOptions } from './cog-writer';
import { modeDownsample2x2 } from './mode-downsample';
import { gdalinfoJson, itGdal, syntheticPlanes, withTempDir } from './test-support';
import { writeCog } from './write-cog';

const run = promisify(execFile);
const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;
const COLORS: Array<[number, number, number]> = [
  [0, 0, 0], [219, 14, 154], [147, 142, 123], [248, 12, 0], [169, 113, 1], [21, 83, 174],
];
const WIDTH = 1300;
const HEIGHT = 900; // with 256 px tiles: overviews 650x450, 325x225, 163x113

function options(over: Partial<CogWriteOptions> = {}): CogWriteOptions {
  return {
    width: WIDTH, height: HEIGHT, tileSize: 256, geoTransform: GT, epsg: 2154, noData: 0, colorMap: COLORS,
    metadata: { FLAIR_CLASSES: '1:building;2:pervious surface' }, ...over,
  };
}

/** Class ids 0..5 in patches, so overviews have majorities, ties and nodata to resolve. */
function classPlane(width = WIDTH, height = HEIGHT): Uint8Array {
  return syntheticPlanes(width, height, 1)[0]!.map((v) => v % 6);
}

/** Tile offsets of every IFD of a little-endian classic TIFF, and the IFD offsets. */
function tiffStructure(file: Buffer): { ifdOffsets: number[]; tileOffsets: number[][] } {
  const ifdOffsets: number[] = [];
  const tileOffsets: number[][] = [];
  let pos = file.readUInt32LE(4);
  while (pos !== 0) {
    ifdOffsets.push(pos);
    const n = file.readUInt16LE(pos);
    for (let i = 0; i < n; i++) {
      const e = pos + 2 + i * 12;
      if (file.readUInt16LE(e) !== 324) continue;
      const count = file.readUInt32LE(e + 4);
      const at = count === 1 ? e + 8 : file.readUInt32LE(e + 8);
      tileOffsets.push(Array.from({ length: count }, (_, j) => file.readUInt32LE(at + 4 * j)));
    }
    pos = file.readUInt32LE(pos + 2 + n * 12);
  }
  return { ifdOffsets, tileOffsets };
}

describe('CogWriter', () => {
  it('writes full resolution and mode overviews that geotiff.js reads back, IFDs before all tile data, smallest overview first', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'block.tif');
      const plane = classPlane();
      await writeCog(path, options(), plane);

      const tiff = await fromFile(path);
      expect(await tiff.getImageCount()).toBe(4);
      let expected = plane;
      let [w, h] = [WIDTH, HEIGHT];
      for (let k = 0; k < 4; k++) {
        const image = await tiff.getImage(k);
        expect([image.getWidth(), image.getHeight()]).toEqual([w, h]);
        const [band] = (await image.readRasters()) as unknown as Uint8Array[];
        expect(Buffer.from(band!).equals(Buffer.from(expected))).toBe(true);
        expected = modeDownsample2x2(expected, w, h);
        [w, h] = [Math.ceil(w / 2), Math.ceil(h / 2)];
      }
      const main = await tiff.getImage(0);
      expect(main.getGeoKeys()?.ProjectedCSTypeGeoKey).toBe(2154);
      expect(main.getGDALNoData()).toBe(0);
      expect(await main.getGDALMetadata()).toMatchObject({ FLAIR_CLASSES: '1:building;2:pervious surface' });

      const { ifdOffsets, tileOffsets } = tiffStructure(await readFile(path));
      const firstData = Math.min(...tileOffsets.flat());
      expect(Math.max(...ifdOffsets)).toBeLessThan(firstData);
      // data order: overview 3, 2, 1, then full resolution
      expect(Math.max(...tileOffsets[3]!)).toBeLessThan(Math.min(...tileOffsets[2]!));
      expect(Math.max(...tileOffsets[2]!)).toBeLessThan(Math.min(...tileOffsets[1]!));
      expect(Math.max(...tileOffsets[1]!)).toBeLessThan(Math.min(...tileOffsets[0]!));
      await expect(readdir(dir)).resolves.toEqual(['block.tif']); // temp files gone
    });
  });

  itGdal('is a valid COG for GDAL: overviews listed, LAYOUT=COG, validate_cloud_optimized_geotiff with full check', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'block.tif');
      await writeCog(path, options(), classPlane());
      const info = await gdalinfoJson(path);
      const band = info.bands[0];
      expect(band.overviews.map((o: { size: number[] }) => o.size)).toEqual([[650, 450], [325, 225], [163, 113]]);
      expect(band.block).toEqual([256, 256]);
      expect(band.colorInterpretation).toBe('Palette');
      expect(band.colorTable.entries[1]).toEqual([219, 14, 154, 255]);
      expect(band.noDataValue).toBe(0);
      expect(info.metadata.IMAGE_STRUCTURE).toMatchObject({ COMPRESSION: 'DEFLATE', LAYOUT: 'COG' });
      expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",2154\]\]$/);
      const { stdout } = await run('/usr/bin/python3', [
        '-m', 'osgeo_utils.samples.validate_cloud_optimized_geotiff', '--full-check=yes', path,
      ]);
      expect(stdout).toContain('is a valid cloud optimized GeoTIFF');
    });
  });

  it('writes byte-identical files from the same tiles', async () => {
    await withTempDir(async (dir) => {
      const plane = classPlane();
      await writeCog(join(dir, 'a.tif'), options(), plane);
      await writeCog(join(dir, 'b.tif'), options(), plane);
      expect((await readFile(join(dir, 'a.tif'))).equals(await readFile(join(dir, 'b.tif')))).toBe(true);
    });
  });

  it('gives a one-tile image no overview', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'small.tif');
      await writeCog(path, options({ width: 200, height: 100 }), classPlane(200, 100));
      const tiff = await fromFile(path);
      expect(await tiff.getImageCount()).toBe(1);
      const [band] = (await (await tiff.getImage(0)).readRasters()) as unknown as Uint8Array[];
      expect(Buffer.from(band!).equals(Buffer.from(classPlane(200, 100)))).toBe(true);
    });
  });

  it('writes BigTIFF when asked, which geotiff.js reads', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'big.tif');
      await writeCog(path, options({ bigTiff: true }), classPlane());
      const bytes = await readFile(path);
      expect(bytes.readUInt16LE(2)).toBe(43);
      const tiff = await fromFile(path);
      expect(await tiff.getImageCount()).toBe(4);
      const [band] = (await (await tiff.getImage(2)).readRasters()) as unknown as Uint8Array[];
      expect(band!.length).toBe(325 * 225);
    });
  });

  it('refuses tiles out of order or mis-sized, a close with tiles missing, and leaves nothing after abort', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'x.tif');
      const writer = await CogWriter.create(path, options());
      const tile = new Uint8Array(256 * 256);
      await expect(writer.writeTile(1, 0, tile)).rejects.toThrow(`${path}: tile (1, 0) out of order; a COG is streamed in row-major order and tile (0, 0) comes next`);
      await expect(writer.writeTile(0, 0, new Uint8Array(10))).rejects.toThrow('tile (0, 0) has 10 bytes, expected 65536 (256x256)');
      await writer.writeTile(0, 0, tile);
      await expect(writer.close()).rejects.toThrow(`${path}: 23 tile(s) never written, the next expected being (1, 0)`);
      await writer.abort();
      expect(existsSync(path)).toBe(false);
      await expect(readdir(dir)).resolves.toEqual([]);
      await expect(writer.writeTile(1, 0, tile)).rejects.toThrow('writer is already closed');
    });
  });

  it('validates options like GeoTiffWriter', async () => {
    await expect(CogWriter.create('/tmp/never.tif', options({ tileSize: 100 }))).rejects.toThrow('tileSize must be a multiple of 16');
    await expect(CogWriter.create('/nonexistent-dir/x.tif', options())).rejects.toThrow('/nonexistent-dir/x.tif.level');
  });

  itGdal('with run-length Deflate: the same pixels and overviews, read back by geotiff.js and by GDAL as a valid COG', async () => {
    await withTempDir(async (dir) => {
      const plane = classPlane();
      await writeCog(join(dir, 'default.tif'), options(), plane);
      await writeCog(join(dir, 'rle.tif'), options({ deflateStrategy: 'rle' }), plane);
      const [byDefault, byRle] = await Promise.all([fromFile(join(dir, 'default.tif')), fromFile(join(dir, 'rle.tif'))]);
      for (let k = 0; k < 4; k++) {
        const [a] = (await (await byDefault.getImage(k)).readRasters()) as unknown as Uint8Array[];
        const [b] = (await (await byRle.getImage(k)).readRasters()) as unknown as Uint8Array[];
        expect(Buffer.from(b!).equals(Buffer.from(a!))).toBe(true);
      }
      expect((await readFile(join(dir, 'rle.tif'))).equals(await readFile(join(dir, 'default.tif')))).toBe(false);
      const { stdout } = await run('/usr/bin/python3', ['-m', 'osgeo_utils.samples.validate_cloud_optimized_geotiff', '--full-check=yes', join(dir, 'rle.tif')]);
      expect(stdout).toContain('is a valid cloud optimized GeoTIFF');
    });
  });

  it('refuses an unknown deflate strategy, naming the file', async () => {
    await expect(CogWriter.create('/tmp/never.tif', options({ deflateStrategy: 'huffman' as 'rle' }))).rejects.toThrow("/tmp/never.tif: deflateStrategy must be 'default' or 'rle', got huffman");
  });
});
