import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, brotliDecompressSync, constants as zlibConstants, crc32, inflateSync, type BrotliOptions } from 'node:zlib';
import type { MaskTile } from './mask-tile';
import type { PlanePool } from './plane-pool';
import { softSpans } from './soft-spans';

const MAGIC = 0x544d4c46; // "FLMT" little-endian
/** Version 1: header, then one zlib stream (written until issue 13; still decoded, see decodeMaskTile). */
const VERSION_ZLIB = 1;
/** Version 2: header, CRC-32 of the header and the stream, then one brotli stream. */
const VERSION_BROTLI = 2;
/** magic, version, k, then width, height, core x/y/w/h as uint16. */
const HEADER_BYTES = 4 + 1 + 1 + 2 * 6;
/** Version 2 adds a CRC-32 after the header. */
const CHECKSUM_BYTES = 4;

/** A stored tile that cannot be decoded; permanent: retrying will read the same bytes. */
export class MaskTileFormatError extends Error {
  readonly permanent = true;
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'MaskTileFormatError';
  }
}

/** Number of pixels outside the core: the ones that carry probabilities. */
export function softPixelCount(tile: Pick<MaskTile, 'width' | 'height' | 'core'>): number {
  return tile.width * tile.height - tile.core.width * tile.core.height;
}

/**
 * Binary layout (version 2): a fixed little-endian header (magic, version, k, width, height,
 * core x/y/w/h), a CRC-32 of the header and the stream, then one brotli stream of the body: planes,
 * each plane contiguous so that the compressor sees long runs: argmax for every pixel, then for
 * soft pixels only (raster order, core skipped): prob of rank 0, then id and prob of each further
 * rank. Brotli carries no checksum of its own, hence the CRC: a damaged object (header included)
 * fails to decode instead of producing a wrong map. It covers the stored bytes rather than the
 * body: a third of the bytes to sum, and checked before anything is decompressed. Version 1
 * (the same header and body, one zlib stream with its Adler-32, no CRC) is still decoded: a run
 * may be resumed by a newer merger.
 * Node's zlib module wraps the native zlib and brotli libraries, not JavaScript ports.
 */
export function encodeMaskTile(tile: MaskTile, options: BrotliOptions = TILE_BROTLI): Buffer {
  const body = tileBody(tile);
  return tileBytes(tile, brotliCompressSync(body, withOutputChunk(options, body.length)));
}

/**
 * Brotli's fastest quality with a 64 KiB window. Issue 13: the body is ~0.85 MB per 512 px window
 * of argmax runs and near-incompressible probability planes, so the cost is in entropy coding,
 * which brotli's quality 0 fast path does at under half zlib's CPU. `window-stages.js --rounds 30
 * [--model flair]` (BENCHMARKS.md "Feeding the model", 2026-11-30), one inner window of the
 * trivial / FLAIR-shaped random model, CPU ms per encode and tile size:
 *   zlib Z_RLE (format 1; its level makes no difference: Z_RLE ignores it)  4.9 / 8.1 ms, 278 / 417 KiB
 *   brotli quality 0, lgwin 16 (this)                                       1.9 / 3.4 ms, 284 / 448 KiB
 *   brotli quality 1, lgwin 16                                              1.9 / 4.0 ms, 276 / 427 KiB
 *   brotli quality 0, lgwin 22 (the default window)                         1.7 / 3.4 ms, 293 / 474 KiB
 * A small window makes the tile smaller at no cost: the fast paths build their codes per block,
 * so each plane gets its own. The merger pays part of it back: decoding costs ~0.3-1 ms more
 * per tile than inflating (same bench).
 */
export const TILE_BROTLI: BrotliOptions = {
  params: {
    [zlibConstants.BROTLI_PARAM_QUALITY]: 0,
    [zlibConstants.BROTLI_PARAM_LGWIN]: 16,
  },
};

const brotliCompressAsync = promisify(brotliCompress);

/**
 * The same bytes as `encodeMaskTile`, compressed on libuv's thread pool: a worker encodes a tile
 * per window, and compressing ~0.85 MB on the main thread would hold up its event loop meanwhile.
 */
export async function encodeMaskTileAsync(tile: MaskTile, options: BrotliOptions = TILE_BROTLI): Promise<Buffer> {
  return encodeTileBodyAsync(tile, tileBody(tile), options);
}

/** The shape the header records: enough to lay out and check the body. */
export type MaskTileShape = Pick<MaskTile, 'width' | 'height' | 'core' | 'k'>;

/**
 * A tile's bytes from its uncompressed body (the planes in the layout above, e.g. built
 * straight from the model's outputs by tileBodyFromOutputs), compressed on libuv's pool. The
 * body is only read, and is free for reuse once the promise settles.
 */
export async function encodeTileBodyAsync(shape: MaskTileShape, body: Uint8Array, options: BrotliOptions = TILE_BROTLI): Promise<Buffer> {
  const expected = tileBodyLength(shape);
  if (body.length !== expected) throw new RangeError(`mask tile body has ${body.length} bytes, expected ${expected}`);
  return tileBytes(shape, await brotliCompressAsync(body, withOutputChunk(options, body.length)));
}

/** Bytes of the uncompressed body of a tile of this shape. */
export function tileBodyLength(shape: MaskTileShape): number {
  return shape.width * shape.height + softPixelCount(shape) * (2 * shape.k - 1);
}

/**
 * One output chunk big enough for the whole stream: with the default 16 KiB chunks a ~350 KB
 * tile takes ~20 round trips to the thread pool and a concat. The compressed bytes do not depend
 * on the chunk size (the tests compare the async bytes with encodeMaskTile's).
 */
function withOutputChunk(options: BrotliOptions, bodyLength: number): BrotliOptions {
  return options.chunkSize === undefined ? { ...options, chunkSize: Math.max(MIN_OUTPUT_CHUNK, bodyLength + 1024) } : options;
}

const MIN_OUTPUT_CHUNK = 64 * 1024;

/** The stored tile: header, CRC-32 (of the header, then the stream), the compressed stream. */
function tileBytes(tile: MaskTileShape, stream: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + CHECKSUM_BYTES + stream.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt8(VERSION_BROTLI, 4);
  out.writeUInt8(tile.k, 5);
  [tile.width, tile.height, tile.core.x, tile.core.y, tile.core.width, tile.core.height].forEach((v, i) =>
    out.writeUInt16LE(v, 6 + 2 * i),
  );
  out.set(stream, HEADER_BYTES + CHECKSUM_BYTES);
  out.writeUInt32LE(storedChecksum(out), HEADER_BYTES);
  return out;
}

/** CRC-32 of a version 2 tile's bytes but the checksum field itself. */
function storedChecksum(bytes: Buffer): number {
  return crc32(bytes.subarray(HEADER_BYTES + CHECKSUM_BYTES), crc32(bytes.subarray(0, HEADER_BYTES)));
}

/** The uncompressed planes, in the order the layout above gives. */
function tileBody(tile: MaskTile): Uint8Array {
  const n = tile.width * tile.height;
  const soft = softPixelCount(tile);
  const body = new Uint8Array(n + soft * (2 * tile.k - 1));
  body.set(tile.argmax, 0);
  const planes: Uint8Array[] = [tile.softProbs[0]!];
  for (let r = 1; r < tile.k; r++) planes.push(tile.softIds[r]!, tile.softProbs[r]!);
  let offset = n;
  for (const plane of planes) {
    offset = gatherSoft(tile, plane, body, offset);
  }
  return body;
}

/**
 * Calls `run(windowOffset, length)` for each horizontal run of soft pixels (outside the core),
 * in raster order: the one walk both the encoder and the decoder follow.
 */
export function forEachSoftRun(tile: Pick<MaskTile, 'width' | 'height' | 'core'>, run: (offset: number, length: number) => void): void {
  const { width, height, core } = tile;
  const after = core.x + core.width;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y >= core.y && y < core.y + core.height) {
      if (core.x > 0) run(row, core.x);
      if (after < width) run(row + after, width - after);
    } else {
      run(row, width);
    }
  }
}

/** Appends the soft pixels of `plane` to `out` from `offset`; returns the next offset. */
function gatherSoft(tile: MaskTile, plane: Uint8Array, out: Uint8Array, offset: number): number {
  forEachSoftRun(tile, (from, length) => {
    out.set(plane.subarray(from, from + length), offset);
    offset += length;
  });
  return offset;
}

/** Fills the soft pixels of `plane` (at `spans`, see softSpans) from `body` at `offset`; returns the next offset. */
function scatterSoft(spans: Int32Array, body: Uint8Array, offset: number, plane: Uint8Array): number {
  for (let i = 0; i < spans.length; i += 2) {
    const length = spans[i + 1]!;
    plane.set(body.subarray(offset, offset + length), spans[i]!);
    offset += length;
  }
  return offset;
}

/**
 * Decodes a tile of either version; `source` (the object key) names the tile in errors. `pool`:
 * soft planes to reuse (see PlanePool); without it every plane is new.
 */
export function decodeMaskTile(bytes: Uint8Array, source: string, pool?: PlanePool): MaskTile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES || buf.readUInt32LE(0) !== MAGIC) {
    throw new MaskTileFormatError(source, 'not a flair-fleet mask tile (bad magic)');
  }
  const version = buf.readUInt8(4);
  if (version !== VERSION_ZLIB && version !== VERSION_BROTLI) throw new MaskTileFormatError(source, `unsupported mask tile version ${version}`);
  // before any header field is trusted: the checksum covers them
  if (version === VERSION_BROTLI) checkStoredChecksum(buf, source);
  const k = buf.readUInt8(5);
  const [width, height, cx, cy, cw, ch] = [0, 1, 2, 3, 4, 5].map((i) => buf.readUInt16LE(6 + 2 * i)) as [
    number, number, number, number, number, number,
  ];
  if (k < 1 || width === 0 || height === 0 || cx + cw > width || cy + ch > height) {
    throw new MaskTileFormatError(source, `inconsistent header (k=${k}, ${width}x${height}, core ${cx},${cy} ${cw}x${ch})`);
  }
  const n = width * height;
  const core = { x: cx, y: cy, width: cw, height: ch };
  const expected = tileBodyLength({ width, height, core, k });
  const body = version === VERSION_ZLIB ? inflateBody(buf, expected, source) : unbrotliBody(buf, expected, source);
  if (body.length !== expected) {
    throw new MaskTileFormatError(source, `body holds ${body.length} bytes, expected ${expected}`);
  }
  // the argmax plane is the body's first n bytes: a view, not a copy (a plain Uint8Array, as
  // the blend's loops are compiled for)
  const argmax = new Uint8Array(body.buffer, body.byteOffset, n);
  const spans = softSpans({ width, height, core });
  // a plane from the pool holds an earlier tile's values: the soft pixels are all written
  // below, the core is cleared (no pool: a new plane, zero already)
  const plane = (): Uint8Array => {
    const reused = pool?.take(n);
    if (!reused) return new Uint8Array(n);
    for (let y = cy; y < cy + ch; y++) reused.fill(0, y * width + cx, y * width + cx + cw);
    return reused;
  };
  // rank 0's id is the argmax itself (not stored twice), 0 inside the core
  const ids0 = plane();
  for (let i = 0; i < spans.length; i += 2) ids0.set(argmax.subarray(spans[i]!, spans[i]! + spans[i + 1]!), spans[i]!);
  const softIds = [ids0];
  const softProbs = [plane()];
  let offset = scatterSoft(spans, body, n, softProbs[0]!);
  for (let r = 1; r < k; r++) {
    const ids = plane();
    const probs = plane();
    offset = scatterSoft(spans, body, offset, ids);
    offset = scatterSoft(spans, body, offset, probs);
    softIds.push(ids);
    softProbs.push(probs);
  }
  return { width, height, core, k, argmax, softIds, softProbs };
}

/**
 * The largest single output chunk decoding asks zlib or brotli for: a header claiming a huge
 * window must not make it reserve gigabytes before the length check rejects the body. 64 MiB
 * holds a 2048 px window at k = 8; a larger body is inflated in several chunks.
 */
const MAX_DECODE_CHUNK = 64 * 2 ** 20;

/**
 * Both decoders inflate into one output chunk one byte longer than the body should be: with
 * zlib's default 16 KiB chunks a ~0.85 MB body came out in ~50 pieces joined by a copy, ~25 % of
 * a decode's CPU (issue 13).
 */
function oneChunk(expected: number): { chunkSize: number } {
  return { chunkSize: Math.min(MAX_DECODE_CHUNK, Math.max(MIN_OUTPUT_CHUNK, expected + 1)) };
}

/** Version 1: one zlib stream after the header; zlib checks its own Adler-32. */
function inflateBody(buf: Buffer, expected: number, source: string): Buffer {
  try {
    return inflateSync(buf.subarray(HEADER_BYTES), oneChunk(expected));
  } catch (err) {
    throw new MaskTileFormatError(source, `corrupt body (${(err as Error).message})`);
  }
}

function checkStoredChecksum(buf: Buffer, source: string): void {
  if (buf.length < HEADER_BYTES + CHECKSUM_BYTES) throw new MaskTileFormatError(source, 'corrupt body (no checksum)');
  if (storedChecksum(buf) !== buf.readUInt32LE(HEADER_BYTES)) throw new MaskTileFormatError(source, 'corrupt body (CRC-32 mismatch)');
}

/** Version 2 (checksum already checked): one brotli stream, decompressed to at most the expected length. */
function unbrotliBody(buf: Buffer, expected: number, source: string): Buffer {
  try {
    // whatever the stream says, no more than one byte past the expected length is produced: enough to refuse it
    return brotliDecompressSync(buf.subarray(HEADER_BYTES + CHECKSUM_BYTES), { ...oneChunk(expected), maxOutputLength: expected + 1 });
  } catch (err) {
    throw new MaskTileFormatError(source, `corrupt body (${(err as Error).message})`);
  }
}
