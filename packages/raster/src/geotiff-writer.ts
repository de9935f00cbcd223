import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflate as deflateCallback } from 'node:zlib';
import { buildGeoTiffTags } from './geotiff-tags';
import { type GeoTiffWriteOptions, type ResolvedWriteOptions, resolveWriteOptions } from './geotiff-write-options';
import { encodeFirstIfdPointer, encodeHeader, encodeIfd } from './tiff-ifd';

// Async zlib runs on libuv's thread pool, so tiles handed in concurrently compress in parallel.
const deflate = promisify(deflateCallback);

const TileState = { Missing: 0, Pending: 1, Written: 2 } as const;

/**
 * Streaming writer of tiled, Deflate-compressed GeoTIFFs with uint8 bands.
 *
 * Hand-written because no maintained Node library writes tiled, compressed GeoTIFFs with
 * colour maps: geotiff.js's writeArrayBuffer writes uncompressed strips from a whole
 * in-memory array. Here each tile is compressed and appended as it arrives (memory does not
 * grow with the raster), and the single IFD goes after the tile data at close, with the
 * header patched to point to it. The file is written as `path + '.partial'` and renamed on
 * close, so readers never see a half-written file.
 */
export class GeoTiffWriter {
  private end: number;
  private readonly offsets: number[];
  private readonly byteCounts: number[];
  private readonly states: Uint8Array;
  private readonly inFlight = new Set<Promise<unknown>>();
  private finished = false;

  private constructor(
    /** The final path; data goes to `${path}.partial` until close. */
    readonly path: string,
    private readonly partialPath: string,
    private readonly file: FileHandle,
    private readonly o: ResolvedWriteOptions,
    headerSize: number,
  ) {
    this.end = headerSize;
    const tileCount = this.tilesAcross * this.tilesDown;
    this.offsets = new Array<number>(tileCount).fill(0);
    this.byteCounts = new Array<number>(tileCount).fill(0);
    this.states = new Uint8Array(tileCount);
  }

  /** Validates the options and starts `${path}.partial` (truncating any earlier one). */
  static async create(path: string, options: GeoTiffWriteOptions): Promise<GeoTiffWriter> {
    const resolved = resolveWriteOptions(options);
    const partialPath = `${path}.partial`;
    const file = await open(partialPath, 'w');
    try {
      const header = encodeHeader(resolved.bigTiff);
      await file.write(header, 0, header.length, 0);
      return new GeoTiffWriter(path, partialPath, file, resolved, header.length);
    } catch (err) {
      await file.close().catch(() => undefined);
      await rm(partialPath, { force: true });
      throw err;
    }
  }

  get tilesAcross(): number {
    return Math.ceil(this.o.width / this.o.tileSize);
  }

  get tilesDown(): number {
    return Math.ceil(this.o.height / this.o.tileSize);
  }

  /** Whether the file is (or will be) BigTIFF, after resolving bigTiff: 'auto'. */
  get bigTiff(): boolean {
    return this.o.bigTiff;
  }

  /**
   * Compresses one tile and appends it to the file. `data` holds tileSize*tileSize*bands
   * bytes, pixel-interleaved; pixels past the raster edge are ignored (written as 0).
   * Tiles may come in any order and concurrently; each tile exactly once.
   */
  async writeTile(tileX: number, tileY: number, data: Uint8Array): Promise<void> {
    this.assertOpen();
    const { tileSize, bands } = this.o;
    if (!Number.isInteger(tileX) || !Number.isInteger(tileY) || tileX < 0 || tileY < 0
      || tileX >= this.tilesAcross || tileY >= this.tilesDown) {
      throw new RangeError(`${this.path}: tile (${tileX}, ${tileY}) is outside the ${this.tilesAcross}x${this.tilesDown} tile grid`);
    }
    const expected = tileSize * tileSize * bands;
    if (data.length !== expected) {
      throw new RangeError(`${this.path}: tile (${tileX}, ${tileY}) has ${data.length} bytes, expected ${expected} (${tileSize}x${tileSize}x${bands})`);
    }
    const index = tileY * this.tilesAcross + tileX;
    if (this.states[index] !== TileState.Missing) {
      throw new Error(`${this.path}: tile (${tileX}, ${tileY}) was already written`);
    }
    this.states[index] = TileState.Pending;
    const work = this.compressAndAppend(index, this.zeroPastEdge(tileX, tileY, data));
    this.inFlight.add(work);
    try {
      await work;
      this.states[index] = TileState.Written;
    } catch (err) {
      // The tile may be written again; the bytes already appended (if any) are just unused.
      this.states[index] = TileState.Missing;
      throw err;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async compressAndAppend(index: number, data: Uint8Array): Promise<void> {
    const compressed = await deflate(data, { level: this.o.deflateLevel });
    // Reserve the file range synchronously after compression so concurrent tiles never overlap.
    const at = this.end;
    const endAfter = at + compressed.length;
    if (!this.o.bigTiff && endAfter > 0xffffffff) {
      throw new RangeError(`${this.path}: file exceeds 4 GiB, which classic TIFF cannot address; write it with bigTiff: true`);
    }
    this.end = endAfter;
    await this.file.write(compressed, 0, compressed.length, at);
    this.offsets[index] = at;
    this.byteCounts[index] = compressed.length;
  }

  /** Edge tiles: blank the padding so the file does not depend on what the caller left there. */
  private zeroPastEdge(tileX: number, tileY: number, data: Uint8Array): Uint8Array {
    const { tileSize, bands, width, height } = this.o;
    const validCols = Math.min(tileSize, width - tileX * tileSize);
    const validRows = Math.min(tileSize, height - tileY * tileSize);
    if (validCols === tileSize && validRows === tileSize) return data;
    const out = new Uint8Array(data.length);
    const rowBytes = validCols * bands;
    for (let r = 0; r < validRows; r++) {
      const start = r * tileSize * bands;
      out.set(data.subarray(start, start + rowBytes), start);
    }
    return out;
  }

  /**
   * Waits for tiles in flight, writes the IFD after the tile data, patches the header to
   * point to it, closes and renames the file into place. If any tile was never written it
   * throws naming them and leaves the writer open: write them and close again, or abort().
   */
  async close(): Promise<void> {
    this.assertOpen();
    await Promise.allSettled([...this.inFlight]);
    const missing: string[] = [];
    this.states.forEach((state, i) => {
      if (state !== TileState.Written) missing.push(`(${i % this.tilesAcross}, ${Math.floor(i / this.tilesAcross)})`);
    });
    if (missing.length > 0) {
      const shown = missing.slice(0, 20).join(', ');
      const more = missing.length > 20 ? ` and ${missing.length - 20} more` : '';
      throw new Error(`${this.path}: ${missing.length} tile(s) never written: ${shown}${more}`);
    }
    this.finished = true;
    try {
      const ifdOffset = this.end + (this.end % 2); // IFDs start on a word boundary
      const tags = buildGeoTiffTags(this.o, this.offsets, this.byteCounts);
      const ifd = encodeIfd(tags, ifdOffset, this.o.bigTiff);
      await this.file.write(ifd, 0, ifd.length, ifdOffset);
      const pointer = encodeFirstIfdPointer(ifdOffset, this.o.bigTiff);
      await this.file.write(pointer.bytes, 0, pointer.bytes.length, pointer.at);
      await this.file.close();
      await rename(this.partialPath, this.path);
    } catch (err) {
      await this.file.close().catch(() => undefined);
      await rm(this.partialPath, { force: true });
      throw err;
    }
  }

  /** Stops writing, closes and deletes the partial file. Safe to call after a failed close. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await Promise.allSettled([...this.inFlight]);
    await this.file.close().catch(() => undefined); // already closed when close() failed midway
    await rm(this.partialPath, { force: true });
  }

  private assertOpen(): void {
    if (this.finished) throw new Error(`${this.path}: writer is already closed`);
  }
}
