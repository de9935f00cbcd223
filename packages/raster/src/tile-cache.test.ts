import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { fromFile } from 'geotiff';
import { openGeoTiff } from './geotiff-reader';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { syntheticPlanes, withTempDir } from './test-support';
import { TileCache } from './tile-cache';
import { encodeFirstIfdPointer, encodeHeader, encodeIfd, TiffType } from './tiff-ifd';
import { writeGeoTiff } from './write-geotiff';

const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;
const SIZE = 640;
const TILE = 128;
const BANDS = 5;
/** Decoded bytes of one full tile of the 5-band uint8 sample. */
const TILE_BYTES = TILE * TILE * BANDS;

/** An in-memory remote object that counts the ranges it serves (one per block fetched). */
class CountingReader implements RangeReader {
  reads = 0;
  failNext = 0;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {}
  async size() {
    return this.bytes.length;
  }
  async read(offset: number, length: number) {
    this.reads++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('connect ECONNRESET');
    }
    return this.bytes.slice(offset, offset + length);
  }
}

async function writeSample(dir: string): Promise<{ path: string; planes: Uint8Array[] }> {
  const path = join(dir, 'dalle.tif');
  const planes = syntheticPlanes(SIZE, SIZE, BANDS, 5);
  await writeGeoTiff(path, { width: SIZE, height: SIZE, bands: BANDS, tileSize: TILE, geoTransform: GT, epsg: 2154 }, planes);
  return { path, planes };
}

/** Worker-style windows: 256 px with 64 px overlap, running past the raster edge. */
function overlappingWindows(): Array<{ x: number; y: number; width: number; height: number }> {
  const out = [];
  for (let y = -64; y < SIZE; y += 192) for (let x = -64; x < SIZE; x += 192) out.push({ x, y, width: 256, height: 256 });
  return out;
}

function tilesTouched(w: { x: number; y: number; width: number; height: number }): string[] {
  const ids: string[] = [];
  const last = SIZE / TILE - 1;
  for (let ty = Math.max(0, Math.floor(w.y / TILE)); ty <= Math.min(last, Math.floor((w.y + w.height - 1) / TILE)); ty++) {
    for (let tx = Math.max(0, Math.floor(w.x / TILE)); tx <= Math.min(last, Math.floor((w.x + w.width - 1) / TILE)); tx++) ids.push(`${tx},${ty}`);
  }
  return ids;
}

/** geotiff.js's own readRasters on the same file, outside our reader: the uncached reference. */
async function referenceWindow(path: string, w: { x: number; y: number; width: number; height: number }): Promise<Uint8Array[]> {
  const tiff = await fromFile(path);
  const image = await tiff.getImage();
  const rasters = (await image.readRasters({
    window: [w.x, w.y, w.x + w.width, w.y + w.height], interleave: false, fillValue: 0,
  })) as unknown as Uint8Array[];
  await tiff.close();
  return rasters.map((r) => Uint8Array.from(r));
}

describe('decoded-tile cache', () => {
  it('decodes each tile once while overlapping windows are read, with the same pixels as uncached reads', async () => {
    await withTempDir(async (dir) => {
      const { path } = await writeSample(dir);
      const bytes = await readFile(path);
      const windows = overlappingWindows();
      const distinct = new Set(windows.flatMap(tilesTouched));
      const touchedTotal = windows.reduce((n, w) => n + tilesTouched(w).length, 0);
      expect(touchedTotal).toBeGreaterThan(distinct.size * 1.5); // the overlap is real

      const cache = new TileCache(64 * 1024 * 1024);
      const cachedReader = new CountingReader('s3://b/dalle.tif', bytes);
      const cached = await openGeoTiff(cachedReader, { tileCache: cache });
      const uncachedReader = new CountingReader('s3://b/dalle.tif', bytes);
      const uncached = await openGeoTiff(uncachedReader, { tileCache: new TileCache(0) });
      cachedReader.reads = 0;
      uncachedReader.reads = 0;

      for (const w of windows) {
        // Band selection in a different order than the file's, as MosaicReader asks for IRC.
        const a = await cached.readWindow(w, { bands: [3, 0, 1, 2, 4] });
        const b = await uncached.readWindow(w, { bands: [3, 0, 1, 2, 4] });
        const reference = await referenceWindow(path, w);
        // Outside the raster geotiff.js leaves its fill (0); ours is 0 by default too.
        [3, 0, 1, 2, 4].forEach((band, i) => {
          expect(Buffer.compare(a[i]!, reference[band]!)).toBe(0);
          expect(Buffer.compare(b[i]!, reference[band]!)).toBe(0);
        });
      }
      expect(cachedReader.reads).toBe(distinct.size);
      expect(cache.stats()).toMatchObject({ misses: distinct.size, hits: touchedTotal - distinct.size });
      expect(uncachedReader.reads).toBe(touchedTotal);

      await cached.close();
      expect(cache.stats()).toMatchObject({ bytes: 0, entries: 0 });
      await uncached.close();
    });
  });

  it('shares one decode between concurrent reads of overlapping windows', async () => {
    await withTempDir(async (dir) => {
      const { path, planes } = await writeSample(dir);
      const cache = new TileCache(64 * 1024 * 1024);
      const file = await openGeoTiff(path, { tileCache: cache });
      const left = { x: 0, y: 0, width: 256, height: 256 };
      const right = { x: 128, y: 0, width: 256, height: 256 };
      const [a, b] = await Promise.all([file.readWindow(left), file.readWindow(right)]);
      expect(cache.stats()).toMatchObject({ misses: 6, hits: 2 });
      expect(Buffer.compare(a[4]!, Buffer.from(crop(planes[4]!, left)))).toBe(0);
      expect(Buffer.compare(b[0]!, Buffer.from(crop(planes[0]!, right)))).toBe(0);
      await file.close();
    });
  });

  it('honours the byte budget: least recently used tiles go first, and are fetched again when needed', async () => {
    await withTempDir(async (dir) => {
      const { path, planes } = await writeSample(dir);
      const reader = new CountingReader('s3://b/dalle.tif', await readFile(path));
      const cache = new TileCache(3 * TILE_BYTES);
      const file = await openGeoTiff(reader, { tileCache: cache });
      reader.reads = 0;
      let most = 0;
      for (const w of overlappingWindows()) {
        await file.readWindow(w);
        most = Math.max(most, cache.stats().bytes);
      }
      expect(most).toBe(3 * TILE_BYTES);
      expect(cache.stats().entries).toBe(3);

      // Tiles (0,0), (1,0), (2,0) in that order, then (0,0) again: it is still held...
      const tile = (tx: number, ty: number) => ({ x: tx * TILE + 1, y: ty * TILE + 1, width: 2, height: 2 });
      for (const [tx, ty] of [[0, 0], [1, 0], [2, 0], [0, 0]] as const) await file.readWindow(tile(tx, ty));
      const before = reader.reads;
      await file.readWindow(tile(0, 0));
      expect(reader.reads).toBe(before);
      // ...so reading a fourth tile evicts (1,0), the least recently used, not (0,0).
      await file.readWindow(tile(3, 0));
      await file.readWindow(tile(0, 0));
      expect(reader.reads).toBe(before + 1);
      const again = await file.readWindow({ x: TILE, y: 0, width: 3, height: 1 }, { bands: [2] });
      expect(reader.reads).toBe(before + 2);
      expect(Array.from(again[0]!)).toEqual(Array.from(planes[2]!.subarray(TILE, TILE + 3)));
      expect(cache.stats().bytes).toBeLessThanOrEqual(cache.maxBytes);
      await file.close();
    });
  });

  it('keeps several files under one budget and drops a closed file\'s tiles', async () => {
    await withTempDir(async (dir) => {
      const { path } = await writeSample(dir);
      const cache = new TileCache(10 * TILE_BYTES);
      const a = await openGeoTiff(path, { tileCache: cache });
      const b = await openGeoTiff(path, { tileCache: cache });
      await a.readWindow({ x: 0, y: 0, width: 256, height: 256 });
      await b.readWindow({ x: 0, y: 0, width: 384, height: 256 });
      expect(cache.stats()).toMatchObject({ entries: 10, bytes: 10 * TILE_BYTES, misses: 10 });
      await b.close();
      expect(cache.stats()).toMatchObject({ entries: 4, bytes: 4 * TILE_BYTES });
      await a.close();
      expect(cache.stats().entries).toBe(0);
    });
  });

  it('does not keep a failed fetch: a transient reader error passes through and the next read fetches again', async () => {
    await withTempDir(async (dir) => {
      const { path, planes } = await writeSample(dir);
      const reader = new CountingReader('s3://b/dalle.tif', await readFile(path));
      const cache = new TileCache(64 * 1024 * 1024);
      const file = await openGeoTiff(reader, { tileCache: cache });
      const w = { x: 5, y: 5, width: 10, height: 10 };
      reader.failNext = 1;
      await expect(file.readWindow(w)).rejects.toThrow('connect ECONNRESET');
      expect(cache.stats().entries).toBe(0);
      const read = await file.readWindow(w);
      expect(Array.from(read[1]!)).toEqual(crop(planes[1]!, w));
      await file.close();
    });
  });

  it('reports a corrupt tile as a RasterError naming the file, and does not cache it', async () => {
    await withTempDir(async (dir) => {
      const { path } = await writeSample(dir);
      const bytes = await readFile(path);
      // The first tile's data starts right after the 8-byte header (our writer appends tiles in order).
      const spy = new CountingReader('spy', bytes);
      const ranges: Array<[number, number]> = [];
      const read = spy.read.bind(spy);
      spy.read = async (offset, length) => {
        ranges.push([offset, length]);
        return read(offset, length);
      };
      const probe = await openGeoTiff(spy, { tileCache: new TileCache(0) });
      ranges.length = 0;
      await probe.readWindow({ x: 0, y: 0, width: 1, height: 1 });
      await probe.close();
      const [offset, length] = ranges[0]!;
      const corrupt = Buffer.from(bytes);
      corrupt.fill(0xff, offset, offset + length);

      const cache = new TileCache(64 * 1024 * 1024);
      const reader = new CountingReader('s3://b/corrupt.tif', corrupt);
      const file = await openGeoTiff(reader, { tileCache: cache });
      const w = { x: 0, y: 0, width: 4, height: 4 };
      const err = await file.readWindow(w).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RasterError);
      expect((err as RasterError).file).toBe('s3://b/corrupt.tif');
      expect((err as RasterError).problem).toMatch(/^cannot read window \{"x":0,"y":0,"width":4,"height":4\}: .*(header|invalid)/i);
      expect(cache.stats().entries).toBe(0);
      await expect(file.readWindow(w)).rejects.toBeInstanceOf(RasterError);
      expect(cache.stats().misses).toBe(2);
      // Tiles elsewhere still read.
      await expect(file.readWindow({ x: 300, y: 300, width: 4, height: 4 })).resolves.toHaveLength(BANDS);

      // A tile that inflates to fewer bytes than a tile holds.
      const short = Buffer.from(bytes);
      const shortData = deflateSync(Buffer.alloc(100, 7));
      expect(shortData.length).toBeLessThanOrEqual(length);
      shortData.copy(short, offset);
      const shortFile = await openGeoTiff(new CountingReader('s3://b/short.tif', short), { tileCache: cache });
      const shortErr = await shortFile.readWindow(w).catch((e: unknown) => e);
      expect(shortErr).toBeInstanceOf(RasterError);
      expect((shortErr as RasterError).message).toBe(
        `s3://b/short.tif: cannot read window {"x":0,"y":0,"width":4,"height":4}: corrupt tile (0, 0): it decodes to 100 bytes, ${TILE_BYTES} expected`,
      );
      await shortFile.close();
      await file.close();
    });
  });

  it('names the file when its compression is not one geotiff.js decodes', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'jp2k.tif');
      await writeFile(path, tiffWithCompression(34712));
      const err = await openGeoTiff(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RasterError);
      expect((err as RasterError).message).toBe(`${path}: unsupported compression: Unknown compression method identifier: 34712`);
    });
  });

  it('shrinks to a new budget at once, and rejects a negative one', async () => {
    await withTempDir(async (dir) => {
      const { path } = await writeSample(dir);
      const cache = new TileCache(64 * 1024 * 1024);
      const file = await openGeoTiff(path, { tileCache: cache });
      await file.readWindow({ x: 0, y: 0, width: 384, height: 256 });
      expect(cache.stats().entries).toBe(6);
      cache.resize(2 * TILE_BYTES);
      expect(cache.stats()).toMatchObject({ entries: 2, bytes: 2 * TILE_BYTES });
      expect(cache.maxBytes).toBe(2 * TILE_BYTES);
      expect(() => cache.resize(Number.NaN)).toThrow('tile cache budget must be >= 0 bytes, got NaN');
      await file.close();
    });
    expect(() => new TileCache(-1)).toThrow('tile cache budget must be >= 0 bytes, got -1');
  });
});

function crop(plane: Uint8Array, w: { x: number; y: number; width: number; height: number }): number[] {
  const out: number[] = [];
  for (let y = w.y; y < w.y + w.height; y++) for (let x = w.x; x < w.x + w.width; x++) out.push(plane[y * SIZE + x]!);
  return out;
}

/** A 4x4 georeferenced single-strip TIFF claiming the given compression. */
function tiffWithCompression(compression: number): Buffer {
  const header = encodeHeader(false);
  const dataAt = header.length;
  const data = Buffer.alloc(16);
  const ifdAt = dataAt + data.length;
  const ifd = encodeIfd([
    { tag: 256, type: TiffType.LONG, values: [4] },
    { tag: 257, type: TiffType.LONG, values: [4] },
    { tag: 258, type: TiffType.SHORT, values: [8] },
    { tag: 259, type: TiffType.SHORT, values: [compression] },
    { tag: 262, type: TiffType.SHORT, values: [1] },
    { tag: 273, type: TiffType.LONG, values: [dataAt] },
    { tag: 277, type: TiffType.SHORT, values: [1] },
    { tag: 278, type: TiffType.LONG, values: [4] },
    { tag: 279, type: TiffType.LONG, values: [data.length] },
    { tag: 33550, type: TiffType.DOUBLE, values: [10, 10, 0] },
    { tag: 33922, type: TiffType.DOUBLE, values: [0, 0, 0, 1000, 5000, 0] },
  ], ifdAt, false);
  const file = Buffer.concat([header, data, ifd]);
  const pointer = encodeFirstIfdPointer(ifdAt, false);
  pointer.bytes.copy(file, pointer.at);
  return file;
}
