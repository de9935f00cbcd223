import type { GeoTIFFImage } from 'geotiff';
import { inflate } from 'node:zlib';
import { ZSTDDecoder } from 'zstddec';
import { undoHorizontalDifferencing } from './horizontal-predictor';
import type { RangeReaderClient } from './range-reader-client';
import { ScratchBuffers } from './scratch-buffers';

/** TIFF Compression values decoded here: none, Deflate (Adobe), Deflate (old-style), ZSTD. */
const NONE = 1;
const DEFLATE = [8, 32946];
const ZSTD = 50000;

type Codec = 'none' | 'deflate' | 'zstd';

/**
 * zstddec's WebAssembly build of zstd (geotiff.js's own dependency for ZSTD, whose streaming
 * decoder it calls): Node 20's zlib has no zstd. Its one-shot ZSTD_decompress, given the block's
 * size, decompresses the bench's source tiles at 635-667 MB/s (node's inflate: 414-601 on the same
 * tiles in DEFLATE, `bench/dist/source-tile-codecs.js`), and ZSTD sources read 6.8-7.1 ms per
 * window through it against 8.2-9.0 through geotiff.js's streaming decoder (`bench:source-decode`,
 * BENCHMARKS.md issue 13). Started once per process, on the first ZSTD file.
 */
let zstd: Promise<ZSTDDecoder> | undefined;
function zstdDecoder(): Promise<ZSTDDecoder> {
  zstd ??= (async () => {
    const decoder = new ZSTDDecoder();
    await decoder.init();
    return decoder;
  })();
  return zstd;
}

/** Compressed tile bytes wait here between their read and their inflate. */
const compressedScratch = new ScratchBuffers();
/** Uncompressed blocks that are split into planes at once (their bytes are not kept). */
const rawScratch = new ScratchBuffers();

/** A decoded block's bytes in file byte order, as geotiff.js's decoders return them. */
export interface BlockBytes {
  bytes: Uint8Array;
  /** The bytes are a scratch buffer: `release()` once they are copied out, and keep no view. */
  scratch: boolean;
  release(): void;
}

/** Which block bytes a caller wants, and what it does with them. */
export interface BlockRequest {
  /** Band-separate files: the sample whose block is read; 0 for interleaved blocks. */
  sample: number;
  /** The samples the caller reads from the bytes (interleaved blocks). */
  used: readonly number[];
  /** Bytes of a whole block: fewer means a corrupt block. */
  expected: number;
  /**
   * The caller copies `used` out at once and drops the bytes: they may be a scratch buffer
   * (uncompressed blocks), and the other samples need not be decoded.
   */
  copiedOut: boolean;
  /** How errors name the block: "tile (3, 4)". */
  name: () => string;
}

/**
 * Fetches and decodes the blocks of the files worker sources are made of, without geotiff.js:
 * uncompressed, Deflate or ZSTD, no predictor or the horizontal one on 8-bit samples (what
 * `fleet prepare` and GDAL write). Each block costs one read into a reused buffer and one
 * inflate into a buffer of exactly the block's size; geotiff.js's getTileOrStrip allocates a
 * fresh buffer for the compressed bytes and goes through its decoder's promise chain (and,
 * with zlib's output chunk set to the block size, a second output buffer and a second
 * thread-pool round trip to learn that the stream ended). Other files (LZW, JPEG, predictor
 * on wider samples, ...) keep geotiff.js's decoders: `open` says whether this one applies.
 */
export class NativeBlocks {
  private constructor(
    private readonly reader: RangeReaderClient,
    private readonly image: GeoTIFFImage,
    private readonly codec: Codec,
    private readonly predictor: boolean,
    private readonly offsets: ArrayLike<number | bigint>,
    private readonly byteCounts: ArrayLike<number | bigint>,
    /** ZSTD files: the process's decoder, ready. */
    private readonly zstd: ZSTDDecoder | undefined,
  ) {}

  /** The decoder for this image, or undefined when geotiff.js must decode it. */
  static async open(image: GeoTIFFImage, reader: RangeReaderClient): Promise<NativeBlocks | undefined> {
    const dir = image.getFileDirectory();
    const compression = (dir.getValue('Compression') as number | undefined) ?? NONE;
    const codec: Codec | undefined = compression === NONE ? 'none' : DEFLATE.includes(compression) ? 'deflate' : compression === ZSTD ? 'zstd' : undefined;
    if (!codec) return undefined;
    const samples = image.getSamplesPerPixel();
    const bits = Array.from({ length: samples }, (_, s) => image.getBitsPerSample(s));
    // other widths need geotiff.js's normalisation to whole bytes
    if (!bits.every((b) => b === 8 || b === 16 || b === 32 || b === 64)) return undefined;
    const predictor = ((await dir.loadValue('Predictor')) as number | undefined) || 1;
    if (predictor !== 1 && !(predictor === 2 && bits.every((b) => b === 8))) return undefined;
    const tiled = dir.hasTag('TileOffsets');
    const offsets = (await dir.loadValue(tiled ? 'TileOffsets' : 'StripOffsets')) as ArrayLike<number | bigint>;
    const byteCounts = (await dir.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts')) as ArrayLike<number | bigint>;
    return new NativeBlocks(reader, image, codec, predictor === 2, offsets, byteCounts, codec === 'zstd' ? await zstdDecoder() : undefined);
  }

  /**
   * The block's bytes, or undefined for a sparse block (no bytes in the file: geotiff.js fills
   * it with nodata). Throws when the block is shorter than `request.expected`.
   */
  async get(bx: number, by: number, request: BlockRequest): Promise<BlockBytes | undefined> {
    const { sample, expected, copiedOut, name } = request;
    const image = this.image;
    const across = Math.ceil(image.getWidth() / image.getTileWidth());
    const down = Math.ceil(image.getHeight() / image.getTileHeight());
    const index = (image.planarConfiguration === 2 ? sample * across * down : 0) + by * across + bx;
    const offset = Number(this.offsets[index] ?? 0);
    const count = Number(this.byteCounts[index] ?? 0);
    if (count === 0) return undefined;
    let block: BlockBytes;
    if (this.codec !== 'none') {
      const input = await this.read(offset, count, true);
      try {
        // ZSTD on this thread, in WebAssembly (Node 20 has no thread-pool zstd), told the block's
        // size: a stream zstddec cannot decode comes back as no bytes (zstd's error code read
        // as a negative size), reported below as a corrupt block
        block = owned(this.zstd ? this.zstd.decode(input.bytes, expected) : await inflateBlock(input.bytes, expected));
      } finally {
        input.release();
      }
    } else {
      block = await this.read(offset, count, copiedOut);
    }
    if (block.bytes.byteLength < expected) {
      block.release();
      throw new Error(`corrupt ${name()}: it decodes to ${block.bytes.byteLength} bytes, ${expected} expected`);
    }
    if (this.predictor) {
      const stride = image.planarConfiguration === 2 ? 1 : image.getSamplesPerPixel();
      // samples no one reads are left as stored (an IRC tile read for its NIR: a third of the work)
      const used = copiedOut && stride > 1 ? request.used : undefined;
      undoHorizontalDifferencing(block.bytes, image.getTileWidth() * stride, stride, image.getBlockHeight(by), used);
    }
    return block;
  }

  /** `length` bytes at `offset`, into a scratch buffer when the reader can fill one. */
  private async read(offset: number, length: number, useScratch: boolean): Promise<BlockBytes> {
    const reader = this.reader;
    if (!useScratch || !reader.canReadInto) return owned(await reader.read(offset, length));
    const pool = this.codec !== 'none' ? compressedScratch : rawScratch;
    const bytes = pool.take(length);
    try {
      await reader.readInto(offset, bytes);
    } catch (err) {
      pool.give(bytes);
      throw err;
    }
    let released = false;
    return {
      bytes,
      scratch: true,
      release: () => {
        if (!released) pool.give(bytes);
        released = true;
      },
    };
  }
}

function owned(bytes: Uint8Array): BlockBytes {
  return { bytes, scratch: false, release: () => undefined };
}

/**
 * Inflates on libuv's thread pool (tiles of concurrent reads in parallel, the event loop free
 * meanwhile) into one output buffer one byte larger than the block: zlib then ends the stream
 * with room to spare, in one round trip, instead of filling an exact buffer, allocating
 * another and going back to learn there is nothing more.
 */
function inflateBlock(input: Uint8Array, expected: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    inflate(input, { chunkSize: Math.max(64, expected + 1) }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

