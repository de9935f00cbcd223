import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getDecoder } from 'geotiff';
import { deflateSync } from 'node:zlib';
import { openGeoTiff } from './geotiff-reader';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { encodeFirstIfdPointer, encodeHeader, encodeIfd, TiffType } from './tiff-ifd';
import { cropPlane, gdal, gdalDecode, itGdal, syntheticPlanes, withTempDir } from './test-support';
import { writeGeoTiff } from './write-geotiff';
import { ZlibDeflateDecoder } from './zlib-deflate-decoder';

const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;
const W = 300;
const H = 200;

async function writeSample(dir: string, bands = 3, noData?: number): Promise<{ path: string; planes: Uint8Array[] }> {
  const path = join(dir, 'sample.tif');
  const planes = syntheticPlanes(W, H, bands, 21);
  await writeGeoTiff(path, { width: W, height: H, bands, tileSize: 64, geoTransform: GT, epsg: 2154, noData }, planes);
  return { path, planes };
}

/** An in-memory remote object that records the ranges it serves. */
class MemoryReader implements RangeReader {
  readonly reads: Array<[number, number]> = [];
  constructor(readonly name: string, private readonly bytes: Uint8Array) {}
  async size() {
    return this.bytes.length;
  }
  async read(offset: number, length: number) {
    this.reads.push([offset, length]);
    return this.bytes.slice(offset, offset + length);
  }
}

/** A minimal uncompressed striped TIFF (one strip) built by hand, optionally without georeferencing. */
function handMadeTiff(pixels: Uint8Array, width: number, height: number, geo: boolean): Buffer {
  const header = encodeHeader(false);
  const dataAt = header.length;
  const ifdAt = dataAt + pixels.length + (pixels.length % 2);
  const tags = [
    { tag: 256, type: TiffType.LONG, values: [width] },
    { tag: 257, type: TiffType.LONG, values: [height] },
    { tag: 258, type: TiffType.SHORT, values: [8] },
    { tag: 259, type: TiffType.SHORT, values: [1] },
    { tag: 262, type: TiffType.SHORT, values: [1] },
    { tag: 273, type: TiffType.LONG, values: [dataAt] },
    { tag: 277, type: TiffType.SHORT, values: [1] },
    { tag: 278, type: TiffType.LONG, values: [height] },
    { tag: 279, type: TiffType.LONG, values: [pixels.length] },
    ...(geo ? [
      { tag: 33550, type: TiffType.DOUBLE, values: [10, 10, 0] },
      // ModelTiepoint at pixel (1, 2): the reader must shift the origin back to pixel (0, 0).
      { tag: 33922, type: TiffType.DOUBLE, values: [1, 2, 0, 1010, 4980, 0] },
      { tag: 34735, type: TiffType.SHORT, values: [1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4326] },
    ] : []),
  ];
  const ifd = encodeIfd(tags, ifdAt, false);
  const file = Buffer.alloc(ifdAt + ifd.length);
  header.copy(file, 0);
  Buffer.from(pixels).copy(file, dataAt);
  ifd.copy(file, ifdAt);
  const pointer = encodeFirstIfdPointer(ifdAt, false);
  pointer.bytes.copy(file, pointer.at);
  return file;
}

describe('openGeoTiff', () => {
  it('reads the header: size, bands, sample types, geotransform, EPSG, NoData, tiling', async () => {
    await withTempDir(async (dir) => {
      const { path } = await writeSample(dir, 3, 0);
      const file = await openGeoTiff(path);
      expect({ ...file, readWindow: undefined, readWindowFloat: undefined, masks: undefined, close: undefined }).toEqual({
        name: path,
        width: W,
        height: H,
        bandCount: 3,
        bitsPerSample: [8, 8, 8],
        sampleFormat: [1, 1, 1],
        geoTransform: [...GT],
        epsg: 2154,
        noData: 0,
        tileWidth: 64,
        tileHeight: 64,
        readWindow: undefined,
        readWindowFloat: undefined,
        masks: undefined,
        close: undefined,
      });
      expect(await file.masks()).toEqual({}); // no alpha band, no internal mask
      await file.close();
    });
  });

  it('reads windows inside, across the edge and fully outside the raster, with fill and band selection', async () => {
    await withTempDir(async (dir) => {
      const { path, planes } = await writeSample(dir);
      const file = await openGeoTiff(path);
      const inside = { x: 70, y: 33, width: 100, height: 90 };
      const read = await file.readWindow(inside);
      read.forEach((p, b) => expect(Array.from(p)).toEqual(cropPlane(planes[b]!, W, H, inside, 0)));

      const across = { x: -17, y: 150, width: 80, height: 75 };
      const acrossRead = await file.readWindow(across, { fill: 7, bands: [2, 0] });
      expect(acrossRead).toHaveLength(2);
      expect(Array.from(acrossRead[0]!)).toEqual(cropPlane(planes[2]!, W, H, across, 7));
      expect(Array.from(acrossRead[1]!)).toEqual(cropPlane(planes[0]!, W, H, across, 7));

      const outside = await file.readWindow({ x: W + 5, y: 0, width: 10, height: 4 }, { fill: 9 });
      expect(outside.map((p) => Array.from(p))).toEqual([0, 1, 2].map(() => new Array(40).fill(9)));

      const asFloat = await file.readWindowFloat({ x: W - 2, y: H - 1, width: 3, height: 2 }, { bands: [1] });
      const expected = cropPlane(planes[1]!, W, H, { x: W - 2, y: H - 1, width: 3, height: 2 }, Number.NaN);
      expect(Array.from(asFloat[0]!)).toEqual(expected);
      await expect(file.readWindow(inside, { bands: [3] })).rejects.toThrow(`${path}: band index 3 out of range (the file has 3 bands)`);
      await file.close();
    });
  });

  it('reads a remote object through a RangeReader, fetching only the tiles a window touches', async () => {
    await withTempDir(async (dir) => {
      const { path, planes } = await writeSample(dir);
      const reader = new MemoryReader('s3://bucket/sample.tif', await readFile(path));
      const file = await openGeoTiff(reader);
      expect(file.name).toBe('s3://bucket/sample.tif');
      expect(file.epsg).toBe(2154);

      reader.reads.length = 0;
      const one = { x: 130, y: 70, width: 20, height: 20 }; // inside tile (2, 1)
      const read = await file.readWindow(one);
      read.forEach((p, b) => expect(Array.from(p)).toEqual(cropPlane(planes[b]!, W, H, one, 0)));
      expect(reader.reads).toHaveLength(1);

      reader.reads.length = 0;
      await file.readWindow({ x: 60, y: 60, width: 8, height: 8 }); // corner of 4 tiles
      expect(reader.reads).toHaveLength(4);
      await file.close();
    });
  });

  itGdal('reads GDAL-written files: Deflate with horizontal predictor, striped uncompressed, and float32 / int16', async () => {
    await withTempDir(async (dir) => {
      const { path, planes } = await writeSample(dir);
      const all = { x: 0, y: 0, width: W, height: H };

      const predicted = join(dir, 'predictor.tif');
      await gdal('gdal_translate', ['-q', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=128', '-co', 'BLOCKYSIZE=64',
        '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2', path, predicted]);
      const gdalView = await gdalDecode(predicted, dir, 3, W, H);
      const p = await openGeoTiff(predicted);
      expect([p.tileWidth, p.tileHeight]).toEqual([128, 64]);
      const pRead = await p.readWindow(all);
      pRead.forEach((plane, b) => {
        expect(Buffer.compare(plane, planes[b]!)).toBe(0);
        expect(Buffer.compare(plane, gdalView[b]!)).toBe(0);
      });
      await p.close();

      const striped = join(dir, 'striped.tif');
      await gdal('gdal_translate', ['-q', '-co', 'INTERLEAVE=BAND', path, striped]);
      const s = await openGeoTiff(striped);
      expect(s.tileWidth).toBe(W);
      const sRead = await s.readWindow({ x: -3, y: 190, width: 20, height: 20 }, { bands: [1] });
      expect(Array.from(sRead[0]!)).toEqual(cropPlane(planes[1]!, W, H, { x: -3, y: 190, width: 20, height: 20 }, 0));
      await s.close();

      const float = join(dir, 'dsm.tif');
      await gdal('gdal_translate', ['-q', '-ot', 'Float32', '-b', '1', '-scale', '0', '255', '0', '25.5', '-a_nodata', '-9999', path, float]);
      const f = await openGeoTiff(float);
      expect([f.bitsPerSample, f.sampleFormat, f.noData]).toEqual([[32], [3], -9999]);
      const window = { x: 290, y: 0, width: 20, height: 3 };
      const fRead = await f.readWindowFloat(window);
      const expected = cropPlane(planes[0]!, W, H, window, Number.NaN).map((v) => Math.fround(v / 10));
      Array.from(fRead[0]!).forEach((v, i) => {
        if (Number.isNaN(expected[i]!)) expect(v).toBeNaN();
        else expect(v).toBeCloseTo(expected[i]!, 4);
      });
      await expect(f.readWindow(window)).rejects.toThrow(
        new RasterError(float, 'band 1 is float32, uint8 required (use readWindowFloat)'),
      );
      await f.close();

      const int16 = join(dir, 'int16.tif');
      await gdal('gdal_translate', ['-q', '-ot', 'Int16', '-b', '2', '-scale', '0', '255', '-1000', '1550', path, int16]);
      const i16 = await openGeoTiff(int16);
      expect([i16.bitsPerSample, i16.sampleFormat]).toEqual([[16], [2]]);
      const iRead = await i16.readWindowFloat({ x: 0, y: 0, width: 4, height: 1 });
      expect(Array.from(iRead[0]!)).toEqual(Array.from(planes[1]!.subarray(0, 4)).map((v) => -1000 + v * 10));
      const err = await i16.readWindow({ x: 0, y: 0, width: 1, height: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RasterError);
      expect((err as RasterError).message).toBe(`${int16}: band 1 is int16, uint8 required (use readWindowFloat)`);
      await i16.close();
    });
  });

  it('reads ModelTiepoint at a pixel other than (0, 0) and GeographicTypeGeoKey', async () => {
    await withTempDir(async (dir) => {
      const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 3);
      const path = join(dir, 'hand.tif');
      await writeFile(path, handMadeTiff(pixels, 4, 3, true));
      const file = await openGeoTiff(path);
      expect(file.geoTransform).toEqual([1000, 10, 0, 5000, 0, -10]);
      expect(file.epsg).toBe(4326);
      expect(file.noData).toBeUndefined();
      const read = await file.readWindow({ x: 1, y: 1, width: 2, height: 2 });
      expect(Array.from(read[0]!)).toEqual([15, 18, 27, 30]);
      await file.close();
    });
  });

  it('reads into the caller\'s planes: same pixels, outside ones left untouched', async () => {
    await withTempDir(async (dir) => {
      const { path } = await writeSample(dir);
      const file = await openGeoTiff(path);
      try {
        const window = { x: W - 50, y: -20, width: 80, height: 60 }; // past the right and top edges
        const fresh = await file.readWindow(window, { bands: [2, 0] });
        const into = [new Uint8Array(80 * 60).fill(7), new Uint8Array(80 * 60).fill(7)];
        const returned = await file.readWindow(window, { bands: [2, 0], into });
        expect(returned[0]).toBe(into[0]);
        for (let y = 0; y < 60; y++) {
          for (let x = 0; x < 80; x++) {
            const inside = window.x + x < W && window.y + y >= 0;
            for (const b of [0, 1]) expect(into[b]![y * 80 + x]).toBe(inside ? fresh[b]![y * 80 + x] : 7);
          }
        }
        await expect(file.readWindow(window, { bands: [0], into: [new Uint8Array(10)] })).rejects.toThrow(
          `${path}: readWindow into 1 plane(s) for 1 band(s) of 80x60 px`,
        );
      } finally {
        await file.close();
      }
    });
  });

  describe('errors name the file and the problem', () => {
    async function failure(source: string | RangeReader): Promise<RasterError> {
      const err = await openGeoTiff(source).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RasterError);
      const rasterError = err as RasterError;
      expect(rasterError.permanent).toBe(true);
      expect(rasterError.file).toBe(typeof source === 'string' ? source : source.name);
      expect(rasterError.message.startsWith(`${rasterError.file}: `)).toBe(true);
      return rasterError;
    }

    it('not a TIFF', async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, 'notes.tif');
        await writeFile(path, 'this is a text file, not an image\n');
        expect((await failure(path)).problem).toBe('not a TIFF file (Invalid byte order value.)');
        const empty = join(dir, 'empty.tif');
        await writeFile(empty, '');
        expect((await failure(empty)).problem).toBe('not a TIFF file (only 0 bytes)');
      });
    });

    it('truncated: the directory (written last) is cut off', async () => {
      await withTempDir(async (dir) => {
        const { path } = await writeSample(dir);
        const size = (await readFile(path)).length;
        await truncate(path, Math.floor(size / 2));
        const err = await failure(path);
        expect(err.problem).toMatch(/^truncated file: data expected at byte \d+ but the file is \d+ bytes long$/);
        // The same through a RangeReader.
        const remote = await failure(new MemoryReader('s3://b/cut.tif', await readFile(path)));
        expect(remote.problem).toBe(err.problem);
      });
    });

    itGdal('truncated: the directory is intact (GDAL writes it first) but tile data is cut off', async () => {
      await withTempDir(async (dir) => {
        const { path } = await writeSample(dir);
        const gdalFile = join(dir, 'gdal.tif');
        await gdal('gdal_translate', ['-q', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', path, gdalFile]);
        const size = (await readFile(gdalFile)).length;
        await truncate(gdalFile, size - 100);
        expect((await failure(gdalFile)).problem).toMatch(
          new RegExp(`^truncated file: image data runs to byte ${size} but the file is ${size - 100} bytes long$`),
        );
      });
    });

    it('a strip too big to decode (it would exhaust memory) is refused at open', async () => {
      await withTempDir(async (dir) => {
        // 60000 x 60000 px stored as one Deflate strip: its header is all a window read would need
        const path = join(dir, 'one-strip.tif');
        const header = encodeHeader(false);
        const strip = deflateSync(Buffer.alloc(16));
        const dataAt = header.length;
        const ifdAt = dataAt + strip.length + (strip.length % 2);
        const ifd = encodeIfd([
          { tag: 256, type: TiffType.LONG, values: [60000] },
          { tag: 257, type: TiffType.LONG, values: [60000] },
          { tag: 258, type: TiffType.SHORT, values: [8] },
          { tag: 259, type: TiffType.SHORT, values: [8] },
          { tag: 262, type: TiffType.SHORT, values: [1] },
          { tag: 273, type: TiffType.LONG, values: [dataAt] },
          { tag: 277, type: TiffType.SHORT, values: [1] },
          { tag: 278, type: TiffType.LONG, values: [60000] },
          { tag: 279, type: TiffType.LONG, values: [strip.length] },
          { tag: 33550, type: TiffType.DOUBLE, values: [0.2, 0.2, 0] },
          { tag: 33922, type: TiffType.DOUBLE, values: [0, 0, 0, 645000, 6865000, 0] },
          { tag: 34735, type: TiffType.SHORT, values: [1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 2154] },
        ], ifdAt, false);
        const file = Buffer.alloc(ifdAt + ifd.length);
        header.copy(file, 0);
        strip.copy(file, dataAt);
        ifd.copy(file, ifdAt);
        const pointer = encodeFirstIfdPointer(ifdAt, false);
        pointer.bytes.copy(file, pointer.at);
        await writeFile(path, file);
        expect((await failure(path)).problem).toBe(
          'a 60000x60000 px tile or strip would take 3434 MiB to decode (limit 64 MiB): write the file tiled (fleet prepare, or gdal_translate -of COG)',
        );
      });
    });

    it('no georeferencing', async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, 'plain.tif');
        await writeFile(path, handMadeTiff(new Uint8Array(12), 4, 3, false));
        expect((await failure(path)).problem).toBe(
          'no georeferencing (neither ModelPixelScale+ModelTiepoint nor ModelTransformation)',
        );
      });
    });

    it('passes reader I/O errors through unchanged (they may be transient)', async () => {
      await withTempDir(async (dir) => {
        const { path } = await writeSample(dir);
        const bytes = await readFile(path);
        const outage = new Error('connect ECONNRESET');
        const flaky: RangeReader = {
          name: 's3://b/flaky.tif',
          size: async () => bytes.length,
          read: async (offset) => {
            if (offset > 0) throw outage;
            return bytes.subarray(0, 1024);
          },
        };
        await expect(openGeoTiff(flaky)).rejects.toBe(outage);
      });
    });
  });
});

describe('zlib deflate decoder', () => {
  it('is the decoder geotiff.js uses for Deflate (registered by importing the reader), and inflates exactly', async () => {
    const params = { tileWidth: 16, tileHeight: 16, predictor: 1, bitsPerSample: [8], planarConfiguration: 1 };
    for (const compression of [8, 32946]) {
      const decoder = await getDecoder(compression, params);
      expect(decoder).toBeInstanceOf(ZlibDeflateDecoder);
      const data = syntheticPlanes(64, 64, 1, compression)[0]!;
      const compressed = deflateSync(data);
      const out = await decoder.decode(compressed.buffer.slice(compressed.byteOffset, compressed.byteOffset + compressed.length));
      expect(Buffer.compare(Buffer.from(out as ArrayBuffer), Buffer.from(data))).toBe(0);
    }
  });

  it('inflates a block larger than its one-chunk estimate (strip heights, wrong tags) exactly', async () => {
    // 16x16 uint8 blocks make a 64 KiB output chunk; this block is 3 chunks and a bit.
    const decoder = await getDecoder(8, { tileWidth: 16, tileHeight: 16, predictor: 1, bitsPerSample: [8], planarConfiguration: 1 });
    const data = syntheticPlanes(450, 450, 1, 9)[0]!;
    const compressed = deflateSync(data);
    const out = await decoder.decode(compressed.buffer.slice(compressed.byteOffset, compressed.byteOffset + compressed.length));
    expect(Buffer.compare(Buffer.from(out as ArrayBuffer), Buffer.from(data))).toBe(0);
  });
});
