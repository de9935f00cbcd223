import { type GeoTransform, intersectRects, type PixelRect } from '@fleet/grid';
import { fromCustomClient, type GeoTIFFImage } from 'geotiff';
import { readEpsg, readGeoTransform, readNoData } from './georeferencing';
import { LocalFileReader } from './local-file-reader';
import { findMasks, type MaskInfo } from './mask-ifds';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { RangeReaderClient } from './range-reader-client';
import { DecodedBlocks, type SamplePlane } from './decoded-blocks';
import { sharedTileCache, type TileCache } from './tile-cache';
import { registerZlibDeflateDecoder } from './zlib-deflate-decoder';

registerZlibDeflateDecoder();

export interface RasterHeader {
  /** The path or object name, as errors name it. */
  name: string;
  width: number;
  height: number;
  bandCount: number;
  /** Per band. */
  bitsPerSample: number[];
  /** Per band: 1 unsigned integer, 2 signed integer, 3 floating point. */
  sampleFormat: number[];
  geoTransform: GeoTransform;
  epsg: number | undefined;
  noData: number | undefined;
  /** Block size (for striped files: the width and the rows per strip). */
  tileWidth: number;
  tileHeight: number;
}

export interface ReadWindowOptions<Fill = number> {
  /** Value of pixels outside the raster. */
  fill?: Fill;
  /** 0-based band indices to read, in output order. Default: all bands. */
  bands?: number[];
  /**
   * readWindow only: window-sized planes (one per band read) to write into instead of new
   * ones, so a caller assembling a larger array saves an allocation and a copy. Pixels outside
   * the raster are left as they are (`fill` does not apply).
   */
  into?: Uint8Array[];
}

export interface RasterFile extends RasterHeader {
  /**
   * Band-separate uint8 planes (width*height of the window each) for a window fully or
   * partly outside the raster: outside pixels are `fill` (default 0). Reads only the tiles
   * the window touches. Throws RasterError when a requested band is not uint8.
   */
  readWindow(window: PixelRect, options?: ReadWindowOptions): Promise<Uint8Array[]>;
  /**
   * The same as Float32Array planes, for any numeric band type (DSM/DTM rasters).
   * Outside pixels are `fill`, default NaN.
   */
  readWindowFloat(window: PixelRect, options?: ReadWindowOptions): Promise<Float32Array[]>;
  /**
   * Its alpha band and GDAL internal mask, if any (reads the rest of the IFD chain, so only
   * the coordinator's scan asks; workers get the answer from the run spec).
   */
  masks(): Promise<MaskInfo>;
  /** Releases the file handle (local paths); a RangeReader passed in stays the caller's. */
  close(): Promise<void>;
}

export interface OpenGeoTiffOptions {
  /**
   * Where decoded tiles are kept while windows that need them are read; closing the file
   * drops its tiles. Default: sharedTileCache, one byte budget for the whole process.
   */
  tileCache?: TileCache;
}

/**
 * Opens the first image of a GeoTIFF for windowed reads: a local path, or a RangeReader for
 * a remote object. Throws RasterError (naming the file) when it is not a TIFF, is truncated
 * or corrupt, or has no georeferencing; reader I/O errors pass through unchanged.
 */
export async function openGeoTiff(source: string | RangeReader, options: OpenGeoTiffOptions = {}): Promise<RasterFile> {
  const local = typeof source === 'string' ? new LocalFileReader(source) : undefined;
  const reader = local ?? (source as RangeReader);
  try {
    return await openWith(reader, options, async () => local?.close());
  } catch (err) {
    await local?.close().catch(() => undefined);
    throw err;
  }
}

async function openWith(reader: RangeReader, options: OpenGeoTiffOptions, release: () => Promise<void>): Promise<RasterFile> {
  const name = reader.name;
  const size = await reader.size();
  if (size < 8) throw new RasterError(name, `not a TIFF file (only ${size} bytes)`);
  const client = new RangeReaderClient(reader, size);
  const fail = (what: string) => (err: unknown): never => {
    throw toRasterError(name, client, what, err);
  };
  const tiff = await fromCustomClient(client).catch(fail('cannot read the TIFF header'));
  const image = await tiff.getImage(0).catch(fail('truncated or corrupt TIFF directory'));
  const header = await readHeader(name, image, size).catch(fail('truncated or corrupt TIFF directory'));

  const checkBands = (bands: number[] | undefined): number[] => {
    const all = Array.from({ length: header.bandCount }, (_, i) => i);
    for (const b of bands ?? []) {
      if (!Number.isInteger(b) || b < 0 || b >= header.bandCount) {
        throw new RangeError(`${name}: band index ${b} out of range (the file has ${header.bandCount} bands)`);
      }
    }
    return bands ?? all;
  };

  const blocks = await DecodedBlocks.open(image, options.tileCache ?? sharedTileCache, client).catch(fail('unsupported compression'));

  const readInto = async <T extends Uint8Array | Float32Array>(
    window: PixelRect,
    bands: number[],
    planes: T[],
  ): Promise<T[]> => {
    const clip = intersectRects(window, { x: 0, y: 0, width: header.width, height: header.height });
    if (!clip || bands.length === 0) return planes;
    const bw = blocks.blockWidth;
    const bh = blocks.blockHeight;
    const copies: Array<Promise<void>> = [];
    for (let by = Math.floor(clip.y / bh); by * bh < clip.y + clip.height; by++) {
      for (let bx = Math.floor(clip.x / bw); bx * bw < clip.x + clip.width; bx++) {
        // interleaved blocks: one block split into the samples read (in file order, so any band
        // order asks for the same cached block); band-separate: one block per band
        const requests = blocks.bandSeparate ? bands.map((b) => [b]) : [[...new Set(bands)].sort((a, b) => a - b)];
        for (const samples of requests) {
          copies.push(blocks.get(bx, by, samples).then((block) => {
            const part = intersectRects(clip, { x: bx * bw, y: by * bh, width: block.width, height: block.height })!;
            bands.forEach((band, i) => {
              const src = block.planes[band];
              if (src) copyRows(src, block.width, { x: part.x - bx * bw, y: part.y - by * bh }, planes[i]!, window, part);
            });
          }));
        }
      }
    }
    // every block settles before the read fails: a copy still running after the caller has
    // given its planes back (to a buffer pool) would write into another window's pixels
    const failed = (await Promise.allSettled(copies)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) fail(`cannot read window ${JSON.stringify(window)}`)(failed.reason);
    return planes;
  };

  return {
    ...header,
    async readWindow(window, options = {}) {
      checkWindow(name, window);
      const bands = checkBands(options.bands);
      for (const b of bands) {
        if (header.bitsPerSample[b] !== 8 || header.sampleFormat[b] !== 1) {
          throw new RasterError(
            name,
            `band ${b + 1} is ${sampleTypeName(header.bitsPerSample[b], header.sampleFormat[b])}, uint8 required (use readWindowFloat)`,
          );
        }
      }
      const size = window.width * window.height;
      if (options.into && (options.into.length !== bands.length || options.into.some((p) => p.length !== size))) {
        throw new RangeError(`${name}: readWindow into ${options.into.length} plane(s) for ${bands.length} band(s) of ${window.width}x${window.height} px`);
      }
      const planes = options.into ?? bands.map(() => new Uint8Array(size).fill(options.fill ?? 0));
      return readInto(window, bands, planes);
    },
    async readWindowFloat(window, options = {}) {
      checkWindow(name, window);
      const bands = checkBands(options.bands);
      const planes = bands.map(() => new Float32Array(window.width * window.height).fill(options.fill ?? Number.NaN));
      return readInto(window, bands, planes);
    },
    masks() {
      return findMasks(tiff, image, name);
    },
    async close() {
      blocks.release();
      await tiff.close();
      await release();
    },
  };
}

async function readHeader(name: string, image: GeoTIFFImage, fileSize: number): Promise<RasterHeader> {
  const width = image.getWidth();
  const height = image.getHeight();
  const bandCount = image.getSamplesPerPixel();
  if (!(width > 0) || !(height > 0) || !(bandCount > 0)) {
    throw new RasterError(name, `truncated or corrupt TIFF directory (size ${width}x${height}, ${bandCount} samples per pixel)`);
  }
  const geoTransform = readGeoTransform(image);
  if (!geoTransform) {
    throw new RasterError(name, 'no georeferencing (neither ModelPixelScale+ModelTiepoint nor ModelTransformation)');
  }
  const bands = Array.from({ length: bandCount }, (_, i) => i);
  checkBlockSize(name, image.getTileWidth(), image.getTileHeight(), bands.map((i) => image.getBitsPerSample(i)));
  await checkBlocksWithinFile(name, image, fileSize);
  return {
    name,
    width,
    height,
    bandCount,
    bitsPerSample: bands.map((i) => image.getBitsPerSample(i)),
    sampleFormat: bands.map((i) => image.getSampleFormat(i) ?? 1),
    geoTransform,
    epsg: readEpsg(image),
    noData: readNoData(image),
    tileWidth: image.getTileWidth(),
    tileHeight: image.getTileHeight(),
  };
}

/**
 * Largest tile or strip a window read may decode. A window read decodes whole blocks, so a
 * file stored as one giant strip (an untiled dalle written with a single RowsPerStrip) would
 * need its whole image in memory for every window: refused at open, with the way out.
 */
export const MAX_DECODED_BLOCK_BYTES = 64 * 1024 * 1024;

function checkBlockSize(name: string, blockWidth: number, blockHeight: number, bitsPerSample: number[]): void {
  const bytes = blockWidth * blockHeight * bitsPerSample.reduce((sum, bits) => sum + bits, 0) / 8;
  if (!(bytes <= MAX_DECODED_BLOCK_BYTES)) {
    const mib = (n: number) => Math.ceil(n / (1024 * 1024));
    throw new RasterError(
      name,
      `a ${blockWidth}x${blockHeight} px tile or strip would take ${mib(bytes)} MiB to decode (limit ${mib(MAX_DECODED_BLOCK_BYTES)} MiB): ` +
        'write the file tiled (fleet prepare, or gdal_translate -of COG)',
    );
  }
}

/**
 * Loads the block offsets and sizes once (one read each instead of one per tile later)
 * and checks every block lies inside the file, so truncation is reported at open.
 */
async function checkBlocksWithinFile(name: string, image: GeoTIFFImage, fileSize: number): Promise<void> {
  const dir = image.getFileDirectory();
  const tiled = dir.hasTag('TileOffsets');
  const offsets = (await dir.loadValue(tiled ? 'TileOffsets' : 'StripOffsets')) as ArrayLike<number | bigint> | undefined;
  const counts = (await dir.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts')) as ArrayLike<number | bigint> | undefined;
  if (!offsets || !counts) throw new RasterError(name, 'corrupt TIFF directory: no tile or strip offsets');
  let end = 0;
  for (let i = 0; i < offsets.length; i++) {
    const count = Number(counts[i] ?? 0);
    if (count > 0) end = Math.max(end, Number(offsets[i]) + count);
  }
  if (end > fileSize) {
    throw new RasterError(name, `truncated file: image data runs to byte ${end} but the file is ${fileSize} bytes long`);
  }
}

/** Copies `part` (image coordinates) from a block plane into a window plane, row by row. */
function copyRows(
  src: SamplePlane,
  blockWidth: number,
  at: { x: number; y: number },
  dst: Uint8Array | Float32Array,
  window: PixelRect,
  part: PixelRect,
): void {
  for (let r = 0; r < part.height; r++) {
    const from = (at.y + r) * blockWidth + at.x;
    // TypedArray.set converts between element types (e.g. int16 -> float32).
    dst.set(src.subarray(from, from + part.width), (part.y - window.y + r) * window.width + (part.x - window.x));
  }
}

function checkWindow(name: string, w: PixelRect): void {
  if (![w.x, w.y, w.width, w.height].every(Number.isInteger) || w.width < 0 || w.height < 0) {
    throw new RangeError(`${name}: window ${JSON.stringify(w)} must have integer x, y and non-negative integer size`);
  }
}

function sampleTypeName(bits: number | undefined, format: number | undefined): string {
  const kind = format === 3 ? 'float' : format === 2 ? 'int' : 'uint';
  return `${kind}${bits ?? '?'}`;
}

function toRasterError(name: string, client: RangeReaderClient, what: string, err: unknown): unknown {
  if (err instanceof RasterError) return err;
  if (typeof err === 'object' && err !== null && client.readerErrors.has(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/byte order|magic number/i.test(message)) {
    return new RasterError(name, `not a TIFF file (${message})`, { cause: err });
  }
  return new RasterError(name, `${what}: ${message}`, { cause: err });
}
