import { promisify } from 'node:util';
import { constants as zlibConstants, deflate, deflateSync, inflateSync, type ZlibOptions } from 'node:zlib';
import type { MaskTile } from './mask-tile';
import type { PlanePool } from './plane-pool';

const MAGIC = 0x544d4c46; // "FLMT" little-endian
const VERSION = 1;
const HEADER_BYTES = 4 + 1 + 1 + 2 * 6;

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
 * Binary layout: a fixed little-endian header (magic, version, k, width, height, core x/y/w/h)
 * then one zlib stream holding planes, each plane contiguous so that deflate sees long runs:
 * argmax for every pixel, then for soft pixels only (raster order, core skipped): prob of
 * rank 0, then id and prob of each further rank. zlib (not raw deflate) carries an Adler-32
 * checksum, so a damaged object fails to decode instead of producing a wrong map.
 * Node's zlib is the native library, not a JavaScript port.
 */
export function encodeMaskTile(tile: MaskTile, options: ZlibOptions = TILE_DEFLATE): Buffer {
  return Buffer.concat([tileHeader(tile), deflateSync(tileBody(tile), options)]);
}

/**
 * Run-length matching only (Z_RLE): the planes are runs of class ids and probabilities, so
 * looking for distant matches buys little. Measured on a 512 px window of the demo landscape:
 * 5.1 ms of CPU for 228 KB, against 30.6 ms for 222 KB with zlib's default strategy at level 6.
 * The stream stays ordinary zlib: any inflater decodes it.
 */
export const TILE_DEFLATE: ZlibOptions = { level: 6, strategy: zlibConstants.Z_RLE };

const deflateAsync = promisify(deflate);

/**
 * The same bytes as `encodeMaskTile`, compressed on libuv's thread pool: a worker encodes a tile
 * per window, and deflating ~0.5 MB on the main thread would hold up its event loop meanwhile.
 */
export async function encodeMaskTileAsync(tile: MaskTile, options: ZlibOptions = TILE_DEFLATE): Promise<Buffer> {
  return encodeTileBodyAsync(tile, tileBody(tile), options);
}

/** The shape the header records: enough to lay out and check the body. */
export type MaskTileShape = Pick<MaskTile, 'width' | 'height' | 'core' | 'k'>;

/**
 * A tile's bytes from its uncompressed body (the planes in the layout above, e.g. built
 * straight from the model's outputs by tileBodyFromOutputs), compressed on libuv's pool.
 */
export async function encodeTileBodyAsync(shape: MaskTileShape, body: Uint8Array, options: ZlibOptions = TILE_DEFLATE): Promise<Buffer> {
  const n = shape.width * shape.height;
  const expected = n + softPixelCount(shape) * (2 * shape.k - 1);
  if (body.length !== expected) throw new RangeError(`mask tile body has ${body.length} bytes, expected ${expected}`);
  const header = tileHeader(shape);
  // One output chunk big enough for the whole stream: with zlib's default 16 KiB chunks a
  // ~230 KB tile takes ~15 round trips to the thread pool and a concat. The compressed bytes
  // do not depend on the chunk size (the test compares them with encodeMaskTile's).
  const chunkSize = options.chunkSize ?? Math.max(MIN_OUTPUT_CHUNK, body.length + 1024);
  return Buffer.concat([header, await deflateAsync(body, { ...options, chunkSize })]);
}

const MIN_OUTPUT_CHUNK = 64 * 1024;

function tileHeader(tile: MaskTileShape): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt8(tile.k, 5);
  [tile.width, tile.height, tile.core.x, tile.core.y, tile.core.width, tile.core.height].forEach((v, i) =>
    header.writeUInt16LE(v, 6 + 2 * i),
  );
  return header;
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

/** Fills the soft pixels of `plane` from `body` at `offset`; returns the next offset. */
function scatterSoft(tile: Pick<MaskTile, 'width' | 'height' | 'core'>, body: Uint8Array, offset: number, plane: Uint8Array): number {
  forEachSoftRun(tile, (to, length) => {
    plane.set(body.subarray(offset, offset + length), to);
    offset += length;
  });
  return offset;
}

/**
 * The largest single output chunk decoding asks zlib for: a header claiming a huge window must
 * not make it reserve gigabytes before the length check rejects the body. 64 MiB holds a
 * 2048 px window at k = 8; a larger body is inflated in several chunks, as before.
 */
const MAX_DECODE_CHUNK = 64 * 2 ** 20;

/**
 * Decodes a tile; `source` (the object key) names the tile in errors. `pool`: soft planes to
 * reuse (see PlanePool); without it every plane is new.
 */
export function decodeMaskTile(bytes: Uint8Array, source: string, pool?: PlanePool): MaskTile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES || buf.readUInt32LE(0) !== MAGIC) {
    throw new MaskTileFormatError(source, 'not a flair-fleet mask tile (bad magic)');
  }
  const version = buf.readUInt8(4);
  if (version !== VERSION) throw new MaskTileFormatError(source, `unsupported mask tile version ${version}`);
  const k = buf.readUInt8(5);
  const [width, height, cx, cy, cw, ch] = [0, 1, 2, 3, 4, 5].map((i) => buf.readUInt16LE(6 + 2 * i)) as [
    number, number, number, number, number, number,
  ];
  if (k < 1 || width === 0 || height === 0 || cx + cw > width || cy + ch > height) {
    throw new MaskTileFormatError(source, `inconsistent header (k=${k}, ${width}x${height}, core ${cx},${cy} ${cw}x${ch})`);
  }
  const n = width * height;
  const core = { x: cx, y: cy, width: cw, height: ch };
  const soft = n - cw * ch;
  const expected = n + soft * (2 * k - 1);
  let body: Buffer;
  try {
    // one output chunk the size of the body: no chunks to join (the default is 16 KiB chunks)
    body = inflateSync(buf.subarray(HEADER_BYTES), { chunkSize: Math.min(MAX_DECODE_CHUNK, Math.max(MIN_OUTPUT_CHUNK, expected + 1)) });
  } catch (err) {
    throw new MaskTileFormatError(source, `corrupt body (${(err as Error).message})`);
  }
  if (body.length !== expected) {
    throw new MaskTileFormatError(source, `body holds ${body.length} bytes, expected ${expected}`);
  }
  // the argmax plane is the body's first n bytes: a view, not a copy (a plain Uint8Array, as
  // the blend's loops are compiled for)
  const argmax = new Uint8Array(body.buffer, body.byteOffset, n);
  const shape = { width, height, core };
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
  forEachSoftRun(shape, (from, length) => ids0.set(argmax.subarray(from, from + length), from));
  const softIds = [ids0];
  const softProbs = [plane()];
  let offset = scatterSoft(shape, body, n, softProbs[0]!);
  for (let r = 1; r < k; r++) {
    const ids = plane();
    const probs = plane();
    offset = scatterSoft(shape, body, offset, ids);
    offset = scatterSoft(shape, body, offset, probs);
    softIds.push(ids);
    softProbs.push(probs);
  }
  const tile: MaskTile = { width, height, core, k, argmax, softIds, softProbs };
  return tile;
}
