/**
 * Blocks fetched and inflated by NativeBlocks (uncompressed, Deflate and ZSTD, predictor 1 or 2 on
 * 8-bit samples) must give what geotiff.js's own readRasters gives, and what was written:
 * interleaved and band-separate, tiled and striped (a short last strip), 3, 4 and 5 samples,
 * sizes that are not multiples of 4 (the word-wide split's tail), sparse blocks. Files
 * NativeBlocks leaves to geotiff.js (LZW) read the same through the same reader.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import type { PixelRect } from '@fleet/grid';
import { openGeoTiff } from './geotiff-reader';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { cropPlane, gdal, itGdal, syntheticPlanes, withTempDir } from './test-support';
import { TileCache } from './tile-cache';
import { encodeFirstIfdPointer, encodeHeader, encodeIfd, TiffType } from './tiff-ifd';
import { writeGeoTiff } from './write-geotiff';

const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;
const W = 301; // odd sizes: partial blocks, and pixel counts that are not multiples of 4
const H = 203;

/** A remote object (bytes in memory) that can fill a caller's buffer, counting both kinds of read. */
class FillingReader implements RangeReader {
  reads = 0;
  fills = 0;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {}
  async size() {
    return this.bytes.length;
  }
  async read(offset: number, length: number) {
    this.reads++;
    return this.bytes.slice(offset, offset + length);
  }
  async readInto(offset: number, target: Uint8Array) {
    this.fills++;
    target.set(this.bytes.subarray(offset, offset + target.length));
  }
}

/** geotiff.js's own readRasters (its getTileOrStrip and decoders): the reference. */
async function reference(path: string, w: PixelRect): Promise<Uint8Array[]> {
  const tiff = await fromFile(path);
  const rasters = (await (await tiff.getImage()).readRasters({ window: [w.x, w.y, w.x + w.width, w.y + w.height], interleave: false, fillValue: 0 })) as unknown as Uint8Array[];
  await tiff.close();
  return rasters.map((r) => Uint8Array.from(r));
}

const WINDOWS: PixelRect[] = [
  { x: 0, y: 0, width: W, height: H },
  { x: -9, y: 150, width: 70, height: 70 }, // past the left and bottom edges: the short last strip or partial tiles
  { x: 61, y: 3, width: 131, height: 66 },
];

describe('native block decoding (uncompressed, Deflate, ZSTD, horizontal predictor)', () => {
  itGdal('reads what was written and what geotiff.js reads, in every layout it decodes, and leaves other codecs to geotiff.js', async () => {
    await withTempDir(async (dir) => {
      const source = join(dir, 'source.tif');
      const planes = syntheticPlanes(W, H, 5, 13);
      await writeGeoTiff(source, { width: W, height: H, bands: 5, tileSize: 64, geoTransform: GT, epsg: 2154 }, planes);
      // fills: NativeBlocks reads the blocks into its own buffers (compressed, or split at once)
      const variants: Array<{ name: string; bands: number; args: string[]; fills: boolean }> = [
        { name: 'deflate-predictor-rgb', bands: 3, args: ['-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2'], fills: true },
        { name: 'deflate-predictor-rgba', bands: 4, args: ['-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2'], fills: true },
        { name: 'deflate-stack', bands: 5, args: ['-co', 'TILED=YES', '-co', 'BLOCKXSIZE=32', '-co', 'BLOCKYSIZE=48', '-co', 'COMPRESS=DEFLATE'], fills: true },
        { name: 'deflate-predictor-band-separate', bands: 3, args: ['-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2', '-co', 'INTERLEAVE=BAND'], fills: true },
        { name: 'deflate-predictor-strips', bands: 3, args: ['-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2', '-co', 'BLOCKYSIZE=7'], fills: true },
        { name: 'none-rgb', bands: 3, args: ['-co', 'TILED=YES'], fills: true },
        { name: 'none-strips', bands: 3, args: ['-co', 'BLOCKYSIZE=10'], fills: true },
        { name: 'none-single-band', bands: 1, args: ['-co', 'TILED=YES'], fills: false },
        { name: 'zstd-rgb', bands: 3, args: ['-co', 'TILED=YES', '-co', 'COMPRESS=ZSTD'], fills: true },
        { name: 'zstd-predictor-band-separate', bands: 3, args: ['-co', 'TILED=YES', '-co', 'COMPRESS=ZSTD', '-co', 'PREDICTOR=2', '-co', 'INTERLEAVE=BAND'], fills: true },
        { name: 'zstd-predictor-strips', bands: 5, args: ['-co', 'COMPRESS=ZSTD', '-co', 'PREDICTOR=2', '-co', 'BLOCKYSIZE=7'], fills: true },
        { name: 'lzw-rgb', bands: 3, args: ['-co', 'TILED=YES', '-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2'], fills: false },
      ];
      for (const v of variants) {
        const path = join(dir, `${v.name}.tif`);
        await gdal('gdal_translate', ['-q', ...Array.from({ length: v.bands }, (_, b) => ['-b', String(b + 1)]).flat(), ...v.args, source, path]);
        const reader = new FillingReader(path, await readFile(path));
        const file = await openGeoTiff(reader, { tileCache: new TileCache(0) });
        const order = Array.from({ length: v.bands }, (_, b) => v.bands - 1 - b); // reversed, as any band order may come
        for (const w of WINDOWS) {
          const expected = await reference(path, w);
          const read = await file.readWindow(w, { bands: order });
          order.forEach((band, i) => {
            expect({ variant: v.name, band, same: Buffer.compare(read[i]!, expected[band]!) === 0 }).toEqual({ variant: v.name, band, same: true });
            expect(Array.from(read[i]!)).toEqual(cropPlane(planes[band]!, W, H, w, 0));
          });
          // the sample set of an IRC-like read: one band out of interleaved pixels
          const [one] = await file.readWindow(w, { bands: [v.bands - 1] });
          expect(Buffer.compare(one!, expected[v.bands - 1]!)).toBe(0);
        }
        // geotiff.js (LZW) and a single-band block kept as it is read never fill a buffer
        expect({ variant: v.name, fills: reader.fills > 0 }).toEqual({ variant: v.name, fills: v.fills });
        await file.close();
      }
    });
  });

  itGdal('gives sparse blocks (no bytes in the file) to geotiff.js, which fills them', async () => {
    await withTempDir(async (dir) => {
      const source = join(dir, 'source.tif');
      const planes = syntheticPlanes(128, 128, 3, 3).map((p) => p.map((v, i) => (i % 128 < 64 && i < 64 * 128 ? 0 : v)));
      await writeGeoTiff(source, { width: 128, height: 128, bands: 3, tileSize: 64, geoTransform: GT, epsg: 2154 }, planes);
      const path = join(dir, 'sparse.tif');
      await gdal('gdal_translate', ['-q', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=64', '-co', 'BLOCKYSIZE=64', '-co', 'COMPRESS=DEFLATE', '-co', 'SPARSE_OK=TRUE', source, path]);
      const tiff = await fromFile(path);
      const counts = (await (await tiff.getImage()).getFileDirectory().loadValue('TileByteCounts')) as ArrayLike<number>;
      await tiff.close();
      expect(counts[0]).toBe(0); // the all-zero tile was not written
      const file = await openGeoTiff(path, { tileCache: new TileCache(0) });
      const all = { x: 0, y: 0, width: 128, height: 128 };
      const read = await file.readWindow(all);
      read.forEach((plane, b) => expect(Buffer.compare(plane, planes[b]!)).toBe(0));
      await file.close();
    });
  });

  itGdal('reports a ZSTD block zstd cannot decode as corrupt, naming the file and block', async () => {
    await withTempDir(async (dir) => {
      const source = join(dir, 'source.tif');
      await writeGeoTiff(source, { width: 64, height: 64, bands: 3, tileSize: 64, geoTransform: GT, epsg: 2154 }, syntheticPlanes(64, 64, 3, 5));
      const path = join(dir, 'zstd.tif');
      await gdal('gdal_translate', ['-q', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=32', '-co', 'BLOCKYSIZE=32', '-co', 'COMPRESS=ZSTD', source, path]);
      const tiff = await fromFile(path);
      const directory = (await tiff.getImage()).getFileDirectory();
      const offsets = (await directory.loadValue('TileOffsets')) as ArrayLike<number>;
      const counts = (await directory.loadValue('TileByteCounts')) as ArrayLike<number>;
      await tiff.close();
      const bytes = await readFile(path);
      // the second tile's frame, past its magic number, overwritten
      bytes.fill(0xff, Number(offsets[1]) + 4, Number(offsets[1]) + Number(counts[1]));
      const file = await openGeoTiff(new FillingReader('s3://b/zstd.tif', bytes), { tileCache: new TileCache(0) });
      const first = await file.readWindow({ x: 0, y: 0, width: 32, height: 32 });
      expect(first).toHaveLength(3);
      const err = await file.readWindow({ x: 32, y: 0, width: 4, height: 4 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RasterError);
      expect((err as RasterError).message).toBe('s3://b/zstd.tif: cannot read window {"x":32,"y":0,"width":4,"height":4}: corrupt tile (1, 0): it decodes to 0 bytes, 3072 expected');
      await file.close();
    });
  });

  it('reports an uncompressed block shorter than the block as corrupt, naming the file and block', async () => {
    const reader = new FillingReader('s3://b/short-strip.tif', uncompressedStrip(10));
    const file = await openGeoTiff(reader, { tileCache: new TileCache(0) });
    const err = await file.readWindow({ x: 0, y: 0, width: 4, height: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RasterError);
    expect((err as RasterError).message).toBe('s3://b/short-strip.tif: cannot read window {"x":0,"y":0,"width":4,"height":4}: corrupt strip (0, 0): it decodes to 10 bytes, 16 expected');
    await file.close();
  });

  it("passes the reader's own errors through unchanged (transient, not the file's fault)", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'rgb.tif');
      await writeGeoTiff(path, { width: 64, height: 64, bands: 3, tileSize: 64, geoTransform: GT, epsg: 2154 }, syntheticPlanes(64, 64, 3, 4));
      const reader = new FillingReader(path, await readFile(path));
      const file = await openGeoTiff(reader, { tileCache: new TileCache(0) });
      const failure = new Error('connect ECONNRESET');
      reader.readInto = async () => {
        throw failure;
      };
      const err = await file.readWindow({ x: 0, y: 0, width: 4, height: 4 }).catch((e: unknown) => e);
      expect(err).toBe(failure);
      expect(err).not.toBeInstanceOf(RasterError);
      await file.close();
    });
  });

  it('settles every block of a failed read before rejecting, so no copy lands in planes given back', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'rgb.tif');
      await writeGeoTiff(path, { width: 128, height: 64, bands: 3, tileSize: 64, geoTransform: GT, epsg: 2154 }, syntheticPlanes(128, 64, 3, 9));
      const bytes = await readFile(path);
      const reader = new FillingReader(path, bytes);
      const file = await openGeoTiff(reader, { tileCache: new TileCache(0) });
      let calls = 0;
      const fill = reader.readInto.bind(reader);
      reader.readInto = async (offset, target) => {
        calls++;
        if (calls === 1) throw new Error('connect ECONNRESET'); // the left tile fails at once
        await new Promise((r) => setTimeout(r, 50)); // the right one arrives later
        return fill(offset, target);
      };
      const planes = [0, 1, 2].map(() => new Uint8Array(128 * 64));
      await expect(file.readWindow({ x: 0, y: 0, width: 128, height: 64 }, { into: planes })).rejects.toThrow('connect ECONNRESET');
      const after = planes.map((p) => Buffer.from(p));
      await new Promise((r) => setTimeout(r, 100));
      planes.forEach((p, b) => expect(Buffer.compare(p, after[b]!)).toBe(0));
      expect(after[0]!.some((v) => v !== 0)).toBe(true); // the late tile was copied before the rejection
      await file.close();
    });
  });
});

/** A 4x4 single-band uint8 georeferenced TIFF, one uncompressed strip of `stripBytes` bytes (16 for a whole one). */
function uncompressedStrip(stripBytes: number): Buffer {
  const header = encodeHeader(false);
  const dataAt = header.length;
  const data = Buffer.from(Array.from({ length: stripBytes }, (_, i) => i * 7));
  const ifdAt = dataAt + data.length;
  const ifd = encodeIfd([
    { tag: 256, type: TiffType.LONG, values: [4] },
    { tag: 257, type: TiffType.LONG, values: [4] },
    { tag: 258, type: TiffType.SHORT, values: [8] },
    { tag: 259, type: TiffType.SHORT, values: [1] },
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
