import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFile, getDecoder } from 'geotiff';
import { openGeoTiff } from './geotiff-reader';
import { GeoTiffWriter } from './geotiff-writer';
import type { GeoTiffWriteOptions } from './geotiff-write-options';
import {
  gdalDecode, gdalinfoJson, itGdal, listIfdEntries, syntheticPlanes, withTempDir,
} from './test-support';
import { writeGeoTiff } from './write-geotiff';

// A FLAIR-like Lambert-93 origin at 20 cm.
const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;
const COLORS: Array<[number, number, number]> = [
  [219, 14, 154], [147, 142, 123], [248, 12, 0], [169, 113, 1], [21, 83, 174],
];

function baseOptions(over: Partial<GeoTiffWriteOptions> = {}): GeoTiffWriteOptions {
  return { width: 300, height: 200, bands: 1, tileSize: 128, geoTransform: GT, epsg: 2154, ...over };
}

describe('writeGeoTiff', () => {
  itGdal('writes a palette raster GDAL reads with size, CRS, origin, NoData, colour table, metadata and pixels', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'classes.tif');
      const width = 1000;
      const height = 700; // not tile multiples: edge tiles are partial
      const planes = syntheticPlanes(width, height, 1).map((p) => p.map((v) => v % 5));
      await writeGeoTiff(path, baseOptions({
        width, height, tileSize: 256, noData: 0, colorMap: COLORS,
        metadata: { RUN_ID: 'run-42', MODEL: `flair <unet> & "co" 'x'` },
        bandDescriptions: ['land cover class'],
      }), planes);

      const info = await gdalinfoJson(path);
      expect(info.size).toEqual([width, height]);
      expect(info.geoTransform).toEqual([...GT]);
      expect(info.coordinateSystem.wkt).toContain('RGF93 v1 / Lambert-93');
      expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",2154\]\]$/);
      expect(info.metadata['']).toMatchObject({ RUN_ID: 'run-42', MODEL: `flair <unet> & "co" 'x'`, AREA_OR_POINT: 'Area' });
      expect(info.metadata.IMAGE_STRUCTURE).toMatchObject({ COMPRESSION: 'DEFLATE' });
      const band = info.bands[0];
      expect(band.type).toBe('Byte');
      expect(band.block).toEqual([256, 256]);
      expect(band.noDataValue).toBe(0);
      expect(band.description).toBe('land cover class');
      expect(band.colorInterpretation).toBe('Palette');
      expect(band.colorTable.count).toBe(256);
      // GDAL shows the NoData entry (0 here) as transparent.
      expect(band.colorTable.entries.slice(0, 5)).toEqual(COLORS.map((c, i) => [...c, i === 0 ? 0 : 255]));
      expect(band.colorTable.entries[5]).toEqual([0, 0, 0, 255]);
      expect(band.colorTable.entries[255]).toEqual([0, 0, 0, 255]);

      const decoded = await gdalDecode(path, dir, 1, width, height);
      expect(Buffer.compare(decoded[0]!, planes[0]!)).toBe(0);
    });
  });

  it('writes values geotiff.js reads back identically (its own pako decoder and our reader)', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'rgbn.tif');
      const planes = syntheticPlanes(300, 200, 4, 7);
      await writeGeoTiff(path, baseOptions({ bands: 4 }), planes);

      const tiff = await fromFile(path);
      const image = await tiff.getImage();
      const rasters = await image.readRasters({ interleave: false });
      for (let b = 0; b < 4; b++) expect(Buffer.compare(Buffer.from(rasters[b] as Uint8Array), planes[b]!)).toBe(0);
      expect(image.getTileWidth()).toBe(128);
      expect(image.fileDirectory.getValue('ExtraSamples')).toEqual(new Uint16Array([0, 0, 0]));
      await tiff.close();

      const file = await openGeoTiff(path);
      const read = await file.readWindow({ x: 0, y: 0, width: 300, height: 200 });
      for (let b = 0; b < 4; b++) expect(Buffer.compare(read[b]!, planes[b]!)).toBe(0);
      await file.close();
    });
  });

  itGdal('writes RGB (3 bands, Photometric RGB) and 4-band minisblack + ExtraSamples as GDAL expects', async () => {
    await withTempDir(async (dir) => {
      const rgbPath = join(dir, 'rgb.tif');
      const rgb = syntheticPlanes(300, 200, 3, 3);
      await writeGeoTiff(rgbPath, baseOptions({ bands: 3, photometric: 'rgb', bandDescriptions: ['red', 'green', 'blue'] }), rgb);
      const rgbInfo = await gdalinfoJson(rgbPath);
      expect(rgbInfo.bands.map((b: { colorInterpretation: string }) => b.colorInterpretation)).toEqual(['Red', 'Green', 'Blue']);
      expect(rgbInfo.bands.map((b: { description: string }) => b.description)).toEqual(['red', 'green', 'blue']);
      expect(rgbInfo.metadata.IMAGE_STRUCTURE.INTERLEAVE).toBe('PIXEL');
      const rgbDecoded = await gdalDecode(rgbPath, dir, 3, 300, 200);
      rgbDecoded.forEach((p, b) => expect(Buffer.compare(p, rgb[b]!)).toBe(0));

      const irPath = join(dir, 'rgbi.tif');
      const ir = syntheticPlanes(300, 200, 5, 4);
      await writeGeoTiff(irPath, baseOptions({ bands: 5 }), ir);
      const irInfo = await gdalinfoJson(irPath);
      expect(irInfo.bands).toHaveLength(5);
      expect(irInfo.bands[0].colorInterpretation).toBe('Gray');
      expect(irInfo.bands[4].colorInterpretation).toBe('Undefined');
      const irDecoded = await gdalDecode(irPath, dir, 5, 300, 200);
      irDecoded.forEach((p, b) => expect(Buffer.compare(p, ir[b]!)).toBe(0));
    });
  });

  itGdal('writes a geographic CRS under GeographicTypeGeoKey', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'wgs84.tif');
      await writeGeoTiff(path, baseOptions({ epsg: 4326, geoTransform: [2.3, 0.001, 0, 48.9, 0, -0.001] }), syntheticPlanes(300, 200, 1));
      const info = await gdalinfoJson(path);
      expect(info.coordinateSystem.wkt).toMatch(/^GEOGCRS\["WGS 84"/);
      expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",4326\]\]$/);
      expect(info.geoTransform).toEqual([2.3, 0.001, 0, 48.9, 0, -0.001]);
    });
  });

  it('stores tile offsets and byte counts as LONG in classic TIFF and LONG8 in BigTIFF', async () => {
    await withTempDir(async (dir) => {
      const planes = syntheticPlanes(300, 200, 2, 5);
      const classic = join(dir, 'classic.tif');
      const big = join(dir, 'big.tif');
      await writeGeoTiff(classic, baseOptions({ bands: 2 }), planes);
      await writeGeoTiff(big, baseOptions({ bands: 2, bigTiff: true }), planes);

      const classicBytes = await readFile(classic);
      expect(classicBytes.readUInt16LE(2)).toBe(42);
      const classicTags = listIfdEntries(classicBytes);
      expect(classicTags.get(324)).toEqual({ type: 4, count: 6 }); // 3x2 tiles of 128
      expect(classicTags.get(325)).toEqual({ type: 4, count: 6 });
      expect(classicTags.get(259)).toEqual({ type: 3, count: 1 });
      expect(classicTags.has(317)).toBe(false); // no predictor

      const bigBytes = await readFile(big);
      expect(bigBytes.readUInt16LE(2)).toBe(43);
      const bigTags = listIfdEntries(bigBytes);
      expect(bigTags.get(324)).toEqual({ type: 16, count: 6 });
      expect(bigTags.get(325)).toEqual({ type: 16, count: 6 });

      const file = await openGeoTiff(big);
      const read = await file.readWindow({ x: 0, y: 0, width: 300, height: 200 });
      read.forEach((p, b) => expect(Buffer.compare(p, planes[b]!)).toBe(0));
      await file.close();
    });
  });

  itGdal('BigTIFF files open in GDAL with the same pixels', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'big.tif');
      const planes = syntheticPlanes(300, 200, 1, 9);
      await writeGeoTiff(path, baseOptions({ bigTiff: true, noData: 255 }), planes);
      const info = await gdalinfoJson(path);
      expect(info.size).toEqual([300, 200]);
      expect(info.bands[0].noDataValue).toBe(255);
      const decoded = await gdalDecode(path, dir, 1, 300, 200);
      expect(Buffer.compare(decoded[0]!, planes[0]!)).toBe(0);
    });
  });

  it('leaves no file behind and names the problem when the planes do not match', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'bad.tif');
      await expect(writeGeoTiff(path, baseOptions({ bands: 2 }), syntheticPlanes(300, 200, 1))).rejects.toThrow(
        `${path}: 1 planes given for 2 bands`,
      );
      await expect(writeGeoTiff(path, baseOptions(), [new Uint8Array(10)])).rejects.toThrow('plane 0 has 10 bytes');
      expect(existsSync(path)).toBe(false);
      expect(existsSync(`${path}.partial`)).toBe(false);
    });
  });
});

describe('GeoTiffWriter', () => {
  /** The tile of a plane, pixel-interleaved, with `pad` (not 0) past the raster edge. */
  function tileOf(planes: Uint8Array[], width: number, height: number, size: number, tx: number, ty: number, pad: number): Uint8Array {
    const bands = planes.length;
    const out = new Uint8Array(size * size * bands).fill(pad);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const x = tx * size + c;
        const y = ty * size + r;
        if (x >= width || y >= height) continue;
        for (let b = 0; b < bands; b++) out[(r * size + c) * bands + b] = planes[b]![y * width + x]!;
      }
    }
    return out;
  }

  it('accepts tiles in any order and concurrently, ignores padding past the edge, and appears only on close', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'streamed.tif');
      const planes = syntheticPlanes(300, 200, 2, 11);
      const writer = await GeoTiffWriter.create(path, baseOptions({ bands: 2, tileSize: 64 }));
      expect([writer.tilesAcross, writer.tilesDown]).toEqual([5, 4]);
      const order: Array<[number, number]> = [];
      for (let ty = 0; ty < 4; ty++) for (let tx = 0; tx < 5; tx++) order.push([tx, ty]);
      order.reverse();
      await Promise.all(order.map(([tx, ty]) => writer.writeTile(tx, ty, tileOf(planes, 300, 200, 64, tx, ty, 0xee))));
      expect(existsSync(`${path}.partial`)).toBe(true);
      expect(existsSync(path)).toBe(false);
      await writer.close();
      expect(existsSync(path)).toBe(true);
      expect(existsSync(`${path}.partial`)).toBe(false);

      const file = await openGeoTiff(path);
      expect([file.tileWidth, file.tileHeight]).toEqual([64, 64]);
      const read = await file.readWindow({ x: 0, y: 0, width: 300, height: 200 });
      read.forEach((p, b) => expect(Buffer.compare(p, planes[b]!)).toBe(0));
      await file.close();

      // Edge tiles were stored with zero padding, not the caller's 0xee.
      const tiff = await fromFile(path);
      const image = await tiff.getImage();
      const decoder = await getDecoder(8, {
        tileWidth: 64, tileHeight: 64, predictor: 1, bitsPerSample: [8, 8], planarConfiguration: 1,
      });
      const raw = await image.getTileOrStrip(4, 3, 0, decoder);
      const edge = new Uint8Array(raw.data as ArrayBuffer);
      // Tile (4, 3) covers x 256..319, y 192..255: only 44x8 pixels are inside the raster.
      expect(edge[(0 * 64 + 44) * 2]).toBe(0);
      expect(edge[(8 * 64 + 0) * 2]).toBe(0);
      expect(edge[(7 * 64 + 43) * 2]).toBe(planes[0]![199 * 300 + 299]);
      await tiff.close();
    });
  });

  it('refuses a close with missing tiles, naming them, and can still be completed', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'partial.tif');
      const planes = syntheticPlanes(300, 200, 1, 2);
      const writer = await GeoTiffWriter.create(path, baseOptions());
      await writer.writeTile(0, 0, tileOf(planes, 300, 200, 128, 0, 0, 0));
      await writer.writeTile(2, 1, tileOf(planes, 300, 200, 128, 2, 1, 0));
      await expect(writer.close()).rejects.toThrow(`${path}: 4 tile(s) never written: (1, 0), (2, 0), (0, 1), (1, 1)`);
      expect(existsSync(path)).toBe(false);
      for (const [tx, ty] of [[1, 0], [2, 0], [0, 1], [1, 1]] as const) {
        await writer.writeTile(tx, ty, tileOf(planes, 300, 200, 128, tx, ty, 0));
      }
      await writer.close();
      const file = await openGeoTiff(path);
      const read = await file.readWindow({ x: 0, y: 0, width: 300, height: 200 });
      expect(Buffer.compare(read[0]!, planes[0]!)).toBe(0);
      await file.close();
    });
  });

  it('rejects duplicate, misplaced and mis-sized tiles, and writes after close', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'checks.tif');
      const writer = await GeoTiffWriter.create(path, baseOptions({ width: 100, height: 100 }));
      const tile = new Uint8Array(128 * 128);
      await writer.writeTile(0, 0, tile);
      await expect(writer.writeTile(0, 0, tile)).rejects.toThrow('tile (0, 0) was already written');
      await expect(writer.writeTile(1, 0, tile)).rejects.toThrow('tile (1, 0) is outside the 1x1 tile grid');
      await expect(writer.writeTile(0, 0, new Uint8Array(5))).rejects.toThrow('has 5 bytes, expected 16384 (128x128x1)');
      await writer.close();
      await expect(writer.writeTile(0, 0, tile)).rejects.toThrow('writer is already closed');
    });
  });

  it('abort deletes the partial file', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'aborted.tif');
      const writer = await GeoTiffWriter.create(path, baseOptions());
      await writer.writeTile(0, 0, new Uint8Array(128 * 128));
      expect(existsSync(`${path}.partial`)).toBe(true);
      await writer.abort();
      expect(existsSync(`${path}.partial`)).toBe(false);
      expect(existsSync(path)).toBe(false);
    });
  });

  it('validates options with messages that say what is wrong', async () => {
    const create = (over: Partial<GeoTiffWriteOptions>) => GeoTiffWriter.create('/nonexistent/x.tif', baseOptions(over));
    await expect(create({ geoTransform: [0, 1, 0.1, 0, 0, -1] })).rejects.toThrow('is rotated; only north-up');
    await expect(create({ geoTransform: [0, 1, 0, 0, 0, 1] })).rejects.toThrow('is not north-up');
    await expect(create({ bands: 3, colorMap: COLORS })).rejects.toThrow('colorMap needs a single band, got 3 bands');
    await expect(create({ bands: 4, photometric: 'rgb' })).rejects.toThrow("photometric 'rgb' needs exactly 3 bands, got 4");
    await expect(create({ tileSize: 100 })).rejects.toThrow('tileSize must be a multiple of 16');
    await expect(create({ noData: 300 })).rejects.toThrow('noData must be an integer in 0..255');
    await expect(create({ colorMap: [[0, 0, 256]] })).rejects.toThrow('colorMap entry 0 must be three integers in 0..255');
    await expect(create({ width: 0 })).rejects.toThrow('width must be a positive integer, got 0');
  });

  it("picks BigTIFF automatically only past 3.5 GiB uncompressed", async () => {
    await withTempDir(async (dir) => {
      const small = await GeoTiffWriter.create(join(dir, 'a.tif'), baseOptions());
      expect(small.bigTiff).toBe(false);
      await small.abort();
      // 40000 x 40000 x 3 bytes = 4.5 GiB: only the header is written, no tiles.
      const large = await GeoTiffWriter.create(join(dir, 'b.tif'), baseOptions({ width: 40000, height: 40000, bands: 3 }));
      expect(large.bigTiff).toBe(true);
      await large.abort();
    });
  });
});
