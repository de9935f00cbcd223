import { getDecoder, type BaseDecoder, type GeoTIFFImage } from 'geotiff';
import { NativeBlocks } from './native-blocks';
import type { RangeReaderClient } from './range-reader-client';
import { copySampleBytes } from './sample-bytes';
import type { TileCache } from './tile-cache';

/** One sample of a decoded block in native byte order, blockWidth x blockHeight values. */
export type SamplePlane = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** One decoded tile or strip, split into one plane per sample it was asked for. */
export interface DecodedBlock {
  width: number;
  height: number;
  /** Indexed by sample: the samples asked for (band-separate blocks: their one sample). */
  planes: Array<SamplePlane | undefined>;
}

/**
 * Decoded tiles (or strips) of one image, fetched and decoded once while the shared
 * TileCache keeps them.
 *
 * Why this hook: geotiff.js's getTileOrStrip fetches and decodes every compression it knows
 * (the predictor, sparse blocks), but does not fit a worker reading overlapping windows:
 * - its own `cache` option keeps every decoded block of the image forever (no bound), and
 *   fetches the compressed bytes again before it even looks in that cache;
 * - readRasters copies each value through a DataView call, about 1.3 M calls for a
 *   512x512x5 window; split into planes once per block, a window is assembled with row
 *   copies (TypedArray.set);
 * - it reads each block into a fresh buffer, and the garbage of fresh per-tile buffers was a
 *   quarter of a window read's CPU (BENCHMARKS.md issue 13).
 * So uncompressed, Deflate and ZSTD blocks (what fleet prepare and GDAL write) are fetched and
 * decompressed by NativeBlocks, into reused buffers, and every other compression (LZW, JPEG,
 * PackBits, ...) and sparse blocks keep geotiff.js's getTileOrStrip. Deflate runs on node's
 * async zlib, off the event loop, either way (ZlibDeflateDecoder for geotiff.js).
 */
export class DecodedBlocks {
  private constructor(
    private readonly image: GeoTIFFImage,
    private readonly decoder: BaseDecoder,
    private readonly native: NativeBlocks | undefined,
    private readonly cache: TileCache,
    private readonly owner: number,
  ) {}

  static async open(image: GeoTIFFImage, cache: TileCache, client: RangeReaderClient): Promise<DecodedBlocks> {
    const dir = image.getFileDirectory();
    const compression = (dir.getValue('Compression') as number | undefined) ?? 1;
    const decoder = await getDecoder(compression, await decoderParameters(image));
    return new DecodedBlocks(image, decoder, await NativeBlocks.open(image, client), cache, cache.newOwner());
  }

  get blockWidth(): number {
    return this.image.getTileWidth();
  }

  get blockHeight(): number {
    return this.image.getTileHeight();
  }

  /** Whether each block holds one sample (PlanarConfiguration 2) rather than all of them. */
  get bandSeparate(): boolean {
    return this.image.planarConfiguration === 2;
  }

  /**
   * Block (bx, by) split into planes of `samples` only (band-separate files: exactly one).
   *
   * Only the samples asked for are split and kept: an IRC source feeds the model its NIR
   * alone, so its R and G are never copied out of the decoded tile nor held in the cache (a
   * third of the bytes). The sample set is part of the key; a reader asks for the same set for
   * every window of a source (its model bands, or every band where nodata must be tested), so
   * a tile is still split once while the cache holds it. Splitting once per tile and copying
   * rows per window beats copying strided samples straight into each window: overlapping
   * windows read most tile pixels more than once (measured, BENCHMARKS.md issue 13).
   */
  get(bx: number, by: number, samples: readonly number[]): Promise<DecodedBlock> {
    const image = this.image;
    if (this.bandSeparate && samples.length !== 1) throw new RangeError(`band-separate blocks hold one sample, ${samples.length} asked`);
    const blockSample = this.bandSeparate ? samples[0]! : 0;
    const height = image.getBlockHeight(by);
    const bytes = samples.reduce((sum, s) => sum + planeBytesPerValue(image, s), 0) * this.blockWidth * height;
    return this.cache.get(this.owner, `${bx},${by},${samples.join('.')}`, bytes, async () => {
      const pixels = this.blockWidth * height;
      const expected = pixels * (this.bandSeparate ? image.getSampleByteSize(blockSample) : image.getBytesPerPixel());
      const name = () => `${image.isTiled ? 'tile' : 'strip'} (${bx}, ${by})`;
      // a block's bytes are kept as they are only when they are the one plane asked for
      const copiedOut = !isWholePlane(image, samples);
      const native = await this.native?.get(bx, by, { sample: blockSample, used: samples, expected, copiedOut, name });
      if (native) {
        try {
          return { width: this.blockWidth, height, planes: splitSamples(image, native.bytes, samples, pixels) };
        } finally {
          native.release();
        }
      }
      const tile = await image.getTileOrStrip(bx, by, blockSample, this.decoder);
      if (tile.data.byteLength < expected) throw new Error(`corrupt ${name()}: it decodes to ${tile.data.byteLength} bytes, ${expected} expected`);
      return { width: this.blockWidth, height, planes: splitSamples(image, new Uint8Array(tile.data), samples, pixels) };
    });
  }

  /** Drops this image's blocks from the cache. */
  release(): void {
    this.cache.release(this.owner);
  }
}

/**
 * The parameters geotiff.js's decoder registry derives from the directory (its
 * defaultDecoderParameterFn, plus the extra tags of its JPEG, LERC and WebP entries):
 * the registry keeps that function to itself, so it is restated here.
 */
async function decoderParameters(image: GeoTIFFImage) {
  const dir = image.getFileDirectory();
  const tiled = dir.hasTag('TileOffsets');
  return {
    tileWidth: Number(await dir.loadValue(tiled ? 'TileWidth' : 'ImageWidth')),
    tileHeight: Number(tiled ? await dir.loadValue('TileLength') : (await dir.loadValue('RowsPerStrip')) || (await dir.loadValue('ImageLength'))),
    planarConfiguration: (await dir.loadValue('PlanarConfiguration')) as number,
    bitsPerSample: (await dir.loadValue('BitsPerSample')) as number[],
    predictor: ((await dir.loadValue('Predictor')) as number | undefined) || 1,
    ...(dir.hasTag('JPEGTables') ? { JPEGTables: await dir.loadValue('JPEGTables') } : {}),
    ...(dir.hasTag('LercParameters') ? { LercParameters: await dir.loadValue('LercParameters') } : {}),
    samplesPerPixel: image.getSamplesPerPixel(),
  };
}

/** Bytes per value of the plane a sample is split into (float16 widens to float32). */
function planeBytesPerValue(image: GeoTIFFImage, sample: number): number {
  const bits = image.getBitsPerSample(sample);
  if (image.getSampleFormat(sample) === 3) return bits === 64 ? 8 : 4;
  return bits <= 8 ? 1 : bits <= 16 ? 2 : 4;
}

function newPlane(image: GeoTIFFImage, sample: number, length: number): SamplePlane {
  const format = image.getSampleFormat(sample);
  const bytes = planeBytesPerValue(image, sample);
  if (format === 3) return bytes === 8 ? new Float64Array(length) : new Float32Array(length);
  if (format === 2) return bytes === 1 ? new Int8Array(length) : bytes === 2 ? new Int16Array(length) : new Int32Array(length);
  return bytes === 1 ? new Uint8Array(length) : bytes === 2 ? new Uint16Array(length) : new Uint32Array(length);
}

/**
 * Splits a decoded block into native-order planes, reading values exactly as geotiff.js's
 * readRasters does (same byte offsets, same DataView readers), so cached reads return what
 * uncached ones did. Only `samples` are split; the others stay in `block`, untouched. `block`
 * holds at least `pixels` pixels (checked by the caller). Single-byte samples, the common
 * case, are copied by copySampleBytes (word-wide where it can).
 */
function splitSamples(image: GeoTIFFImage, block: Uint8Array, samples: readonly number[], pixels: number): Array<SamplePlane | undefined> {
  const planes: Array<SamplePlane | undefined> = [];
  const separate = image.planarConfiguration === 2;
  const only = samples[0]!;
  const data = block.buffer;
  const at = block.byteOffset;
  if (isWholePlane(image, samples)) {
    // One byte-sized sample per block (single-band dalles, band-separate files): the decoded
    // bytes are the plane already.
    planes[only] = image.getSampleFormat(only) === 2 ? new Int8Array(data, at, pixels) : new Uint8Array(data, at, pixels);
    return planes;
  }
  const bytesPerPixel = separate ? image.getSampleByteSize(samples[0]!) : image.getBytesPerPixel();
  let offset = 0;
  for (let s = 0; s < image.getSamplesPerPixel(); s++) {
    const size = image.getSampleByteSize(s);
    if (samples.includes(s)) {
      const plane = newPlane(image, s, pixels);
      const sampleOffset = separate ? 0 : offset;
      if (size === 1) {
        // Int8 planes hold the same bytes: two's complement
        copySampleBytes(new Uint8Array(data, at, pixels * bytesPerPixel), bytesPerPixel, sampleOffset, plane as Uint8Array | Int8Array, pixels);
      } else {
        const view = new DataView(data, at);
        const read = image.getReaderForSample(s);
        for (let i = 0; i < pixels; i++) plane[i] = read.call(view, i * bytesPerPixel + sampleOffset, image.littleEndian);
      }
      planes[s] = plane;
    }
    offset += size;
  }
  return planes;
}

/** Whether a block's decoded bytes are, as they are, the one plane asked for (nothing to split). */
function isWholePlane(image: GeoTIFFImage, samples: readonly number[]): boolean {
  const only = samples[0]!;
  return samples.length === 1 && (image.planarConfiguration === 2 || image.getSamplesPerPixel() === 1) && image.getSampleByteSize(only) === 1;
}
