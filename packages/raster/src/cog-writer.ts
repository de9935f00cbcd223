import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { constants as zlibConstants, deflate as deflateCallback, type ZlibOptions } from 'node:zlib';
import { cogGhostArea, cogLevelSizes, type LevelSize } from './cog-layout';
import { buildGeoTiffTags, buildOverviewTags } from './geotiff-tags';
import { type GeoTiffWriteOptions, type ResolvedWriteOptions, resolveWriteOptions } from './geotiff-write-options';
import { modeDownsample2x2 } from './mode-downsample';
import type { StageClock } from './stage-clock';
import { encodeFirstIfdPointer, encodeHeader, encodeIfd, type IfdEntry } from './tiff-ifd';

// Async zlib runs on libuv's thread pool: the tiles of a row compress in parallel.
const deflate = promisify(deflateCallback);
const LEADER = 4;
const TRAILER = 4;
const COPY_CHUNK = 1 << 20;

/** Options of a COG of class ids: one uint8 band, overviews by 2x2 mode. */
export type CogWriteOptions = Omit<GeoTiffWriteOptions, 'bands' | 'photometric'> & {
  /**
   * zlib's matching strategy. 'default' searches for repeated strings (deflateLevel sets how
   * hard); 'rle' looks only for runs, several times faster on class maps, whose rows are runs
   * of classes, for somewhat larger tiles. Both are ordinary Deflate that any reader inflates.
   * Default 'default'.
   */
  deflateStrategy?: 'default' | 'rle';
};

/**
 * One image of the COG being built: a strip of up to tileSize full-width rows, cut into
 * tiles and appended to its own temp file when full, then halved into the next level.
 */
class LevelStrip {
  readonly tilesAcross: number;
  readonly tilesDown: number;
  readonly byteCounts: number[];
  /** Offsets of tile data within this level's temp file. */
  readonly offsets: number[];
  private readonly strip: Uint8Array;
  /** cutTile's tile buffers, one per tile column, reused row after row. */
  private readonly tileBuffers: Uint8Array[] = [];
  private rowsInStrip = 0;
  private rowsDone = 0;
  private tileRow = 0;
  private end = 0;

  constructor(
    readonly size: LevelSize,
    private readonly tileSize: number,
    private readonly deflateOptions: ZlibOptions,
    readonly tempPath: string,
    readonly file: FileHandle,
    private readonly next: LevelStrip | undefined,
    private readonly clock: StageClock | undefined,
  ) {
    this.tilesAcross = Math.ceil(size.width / tileSize);
    this.tilesDown = Math.ceil(size.height / tileSize);
    this.byteCounts = new Array<number>(this.tilesAcross * this.tilesDown).fill(0);
    this.offsets = new Array<number>(this.tilesAcross * this.tilesDown).fill(0);
    this.strip = new Uint8Array(size.width * tileSize);
  }

  get complete(): boolean {
    return this.rowsDone === this.size.height;
  }

  /** Copies one full-resolution tile's valid pixels into the strip (level 0 only). */
  placeTile(tileX: number, data: Uint8Array): void {
    const { width } = this.size;
    const x0 = tileX * this.tileSize;
    const cols = Math.min(this.tileSize, width - x0);
    const rows = this.rowsOfCurrentRow();
    for (let r = 0; r < rows; r++) {
      this.strip.set(data.subarray(r * this.tileSize, r * this.tileSize + cols), r * width + x0);
    }
  }

  /** Level 0: the strip now holds the whole current tile row. */
  async finishTileRow(): Promise<void> {
    this.rowsInStrip = this.rowsOfCurrentRow();
    await this.flush();
  }

  /** Overview levels: full-width rows from the level above, halved already. */
  async addRows(rows: Uint8Array, count: number): Promise<void> {
    const { width } = this.size;
    let taken = 0;
    while (taken < count) {
      const n = Math.min(count - taken, this.tileSize - this.rowsInStrip);
      this.strip.set(rows.subarray(taken * width, (taken + n) * width), this.rowsInStrip * width);
      this.rowsInStrip += n;
      taken += n;
      if (this.rowsInStrip === this.rowsOfCurrentRow()) await this.flush();
    }
  }

  private rowsOfCurrentRow(): number {
    return Math.min(this.tileSize, this.size.height - this.tileRow * this.tileSize);
  }

  /** Compresses the strip's tiles (in parallel), appends them in order, passes the strip down. */
  private async flush(): Promise<void> {
    const { width } = this.size;
    const rows = this.rowsInStrip;
    let since = performance.now();
    const compressed = await Promise.all(
      Array.from({ length: this.tilesAcross }, (_, tx) => deflate(this.cutTile(tx, rows), this.deflateOptions)),
    );
    this.clock?.add('encode', since);
    since = performance.now();
    const parts: Buffer[] = [];
    compressed.forEach((data, tx) => {
      const index = this.tileRow * this.tilesAcross + tx;
      const leader = Buffer.alloc(LEADER);
      leader.writeUInt32LE(data.length);
      this.offsets[index] = this.end + LEADER;
      this.byteCounts[index] = data.length;
      parts.push(leader, data, data.subarray(data.length - TRAILER));
      this.end += LEADER + data.length + TRAILER;
    });
    // one gathered write (libuv writes every part, in order), no joined copy of the row
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    await this.file.writev(parts, this.end - length);
    this.clock?.add('write', since);
    this.tileRow++;
    this.rowsDone += rows;
    this.rowsInStrip = 0;
    if (this.next) {
      since = performance.now();
      const halved = modeDownsample2x2(this.strip, width, rows);
      this.clock?.add('overviews', since);
      await this.next.addRows(halved, Math.ceil(rows / 2));
    }
  }

  /**
   * One tile from the strip, zero past the image's right and bottom edges, in this level's
   * buffer for tile column `tx`: the row's deflates are all done before the next row is cut,
   * and new buffers for every tile of a block (~600 MB at 25,000 px) kept the garbage collector
   * busy (BENCHMARKS.md, "Merger speed").
   */
  private cutTile(tx: number, rows: number): Uint8Array {
    const { width } = this.size;
    const t = this.tileSize;
    const x0 = tx * t;
    const cols = Math.min(t, width - x0);
    let tile = this.tileBuffers[tx];
    if (!tile) this.tileBuffers[tx] = tile = new Uint8Array(t * t);
    else if (cols < t || rows < t) tile.fill(0); // a full tile overwrites every byte
    for (let r = 0; r < rows; r++) tile.set(this.strip.subarray(r * width + x0, r * width + x0 + cols), r * t);
    return tile;
  }

  get dataBytes(): number {
    return this.end;
  }
}

/**
 * Streaming writer of a Cloud Optimized GeoTIFF of class ids (one uint8 band): tiled,
 * Deflate, internal overviews by 2x2 mode (averaging would invent classes), GDAL's COG
 * layout: header, structural-metadata ghost area, every IFD (full resolution, then each
 * overview), then tile data from the smallest overview to full resolution.
 *
 * IFDs come first but hold the tile offsets, which are known only once all tiles are
 * compressed: so each level's tiles go to their own temp file as the tile rows stream in
 * (overview rows are computed from the strip just written), and close() writes the header
 * and IFDs and then copies the levels in after them. Memory holds one strip of tile rows per
 * level (about twice a full-resolution tile row), whatever the image height.
 * Hand-written for the same reason as GeoTiffWriter: no Node library writes COGs.
 */
export class CogWriter {
  private nextTile = 0;
  private finished = false;

  private constructor(
    readonly path: string,
    private readonly o: ResolvedWriteOptions,
    private readonly bigTiffOption: boolean | 'auto',
    private readonly levels: LevelStrip[],
    private readonly clock: StageClock | undefined,
  ) {}

  /**
   * Validates the options and opens one temp file per level next to `path`. `clock`, when
   * given, collects the time spent in encode (deflate), overviews (mode) and write stages.
   */
  static async create(path: string, options: CogWriteOptions, clock?: StageClock): Promise<CogWriter> {
    // bigTiff 'auto' is decided at close, when the compressed size is known.
    const { deflateStrategy = 'default', ...tiffOptions } = options;
    if (deflateStrategy !== 'default' && deflateStrategy !== 'rle') throw new RangeError(`${path}: deflateStrategy must be 'default' or 'rle', got ${String(deflateStrategy)}`);
    const o = resolveWriteOptions({ ...tiffOptions, bands: 1, bigTiff: options.bigTiff === true });
    const deflateOptions: ZlibOptions = { level: o.deflateLevel, ...(deflateStrategy === 'rle' ? { strategy: zlibConstants.Z_RLE } : {}) };
    const sizes = cogLevelSizes(o.width, o.height, o.tileSize);
    const levels: LevelStrip[] = [];
    try {
      for (let k = sizes.length - 1; k >= 0; k--) {
        const tempPath = `${path}.level${k}.partial`;
        const file = await open(tempPath, 'w+'); // read back at close
        levels.unshift(new LevelStrip(sizes[k]!, o.tileSize, deflateOptions, tempPath, file, levels[0], clock));
      }
    } catch (err) {
      await closeAndRemove(levels);
      throw err;
    }
    return new CogWriter(path, o, options.bigTiff ?? 'auto', levels, clock);
  }

  get tilesAcross(): number {
    return this.levels[0]!.tilesAcross;
  }

  get tilesDown(): number {
    return this.levels[0]!.tilesDown;
  }

  /** Number of overview images (0 when the image fits one tile). */
  get overviewCount(): number {
    return this.levels.length - 1;
  }

  /**
   * Adds the next full-resolution tile: tiles come in row-major order, each tileSize *
   * tileSize bytes; pixels past the image edge are ignored. Resolves once the tile is taken
   * (after compressing its row when it is the row's last tile).
   */
  async writeTile(tileX: number, tileY: number, data: Uint8Array): Promise<void> {
    if (this.finished) throw new Error(`${this.path}: writer is already closed`);
    const level0 = this.levels[0]!;
    const expectedX = this.nextTile % level0.tilesAcross;
    const expectedY = Math.floor(this.nextTile / level0.tilesAcross);
    if (tileX !== expectedX || tileY !== expectedY) {
      throw new RangeError(`${this.path}: tile (${tileX}, ${tileY}) out of order; a COG is streamed in row-major order and tile (${expectedX}, ${expectedY}) comes next`);
    }
    const expected = this.o.tileSize * this.o.tileSize;
    if (data.length !== expected) {
      throw new RangeError(`${this.path}: tile (${tileX}, ${tileY}) has ${data.length} bytes, expected ${expected} (${this.o.tileSize}x${this.o.tileSize})`);
    }
    const since = performance.now();
    level0.placeTile(tileX, data);
    this.clock?.add('encode', since); // cutting the strip into tiles is part of encoding them
    this.nextTile++;
    if (tileX === level0.tilesAcross - 1) await level0.finishTileRow();
  }

  /** Writes header, IFDs and every level's tiles into `path` (via `path.partial` and a rename). */
  async close(): Promise<void> {
    if (this.finished) throw new Error(`${this.path}: writer is already closed`);
    const total = this.tilesAcross * this.tilesDown;
    if (this.nextTile < total) {
      throw new Error(`${this.path}: ${total - this.nextTile} tile(s) never written, the next expected being (${this.nextTile % this.tilesAcross}, ${Math.floor(this.nextTile / this.tilesAcross)})`);
    }
    this.finished = true;
    const partialPath = `${this.path}.partial`;
    let out: FileHandle | undefined;
    try {
      const incomplete = this.levels.find((l) => !l.complete);
      if (incomplete) throw new Error(`${this.path}: overview ${incomplete.size.width}x${incomplete.size.height} incomplete (internal error)`);
      let layout = this.layOut(this.bigTiffOption === true);
      if (!layout.bigTiff && layout.end > 0xffffffff) {
        if (this.bigTiffOption === false) throw new RangeError(`${this.path}: file exceeds 4 GiB, which classic TIFF cannot address; write it with bigTiff: true`);
        layout = this.layOut(true);
      }
      const since = performance.now();
      out = await open(partialPath, 'w');
      await out.write(layout.head, 0, layout.head.length, 0);
      // Smallest overview first, full resolution last.
      let at = layout.head.length;
      for (let k = this.levels.length - 1; k >= 0; k--) at = await copyInto(this.levels[k]!.file, out, at);
      await out.close();
      out = undefined;
      await rename(partialPath, this.path);
      this.clock?.add('write', since);
    } catch (err) {
      await out?.close().catch(() => undefined);
      await rm(partialPath, { force: true });
      throw err;
    } finally {
      await closeAndRemove(this.levels);
    }
  }

  /** Header, ghost area and chained IFDs with absolute tile offsets; `end` is the file size. */
  private layOut(bigTiff: boolean): { head: Buffer; end: number; bigTiff: boolean } {
    const o = { ...this.o, bigTiff };
    const header = encodeHeader(bigTiff);
    const ghost = cogGhostArea();
    const tagsFor = (k: number, offsets: number[]): IfdEntry[] => {
      const level = this.levels[k]!;
      return k === 0
        ? buildGeoTiffTags(o, offsets, level.byteCounts)
        : buildOverviewTags(o, level.size.width, level.size.height, offsets, level.byteCounts);
    };
    // IFD sizes do not depend on the offset values, only on their count and type.
    const ifdOffsets: number[] = [];
    let at = header.length + ghost.length;
    this.levels.forEach((level, k) => {
      at += at % 2;
      ifdOffsets.push(at);
      at += encodeIfd(tagsFor(k, level.offsets), at, bigTiff).length;
    });
    const dataStart = at;
    const levelStart: number[] = [];
    for (let k = this.levels.length - 1; k >= 0; k--) {
      levelStart[k] = at;
      at += this.levels[k]!.dataBytes;
    }
    const end = at;
    if (!bigTiff && end > 0xffffffff) return { head: Buffer.alloc(0), end, bigTiff };
    const parts: Buffer[] = [header, ghost];
    let pos = header.length + ghost.length;
    this.levels.forEach((level, k) => {
      const offset = ifdOffsets[k]!;
      if (pos < offset) parts.push(Buffer.alloc(offset - pos));
      const absolute = level.offsets.map((rel) => levelStart[k]! + rel);
      const ifd = encodeIfd(tagsFor(k, absolute), offset, bigTiff, ifdOffsets[k + 1] ?? 0);
      parts.push(ifd);
      pos = offset + ifd.length;
    });
    const head = Buffer.concat(parts);
    if (head.length !== dataStart) throw new Error(`${this.path}: IFD layout mismatch (internal error)`);
    const pointer = encodeFirstIfdPointer(ifdOffsets[0]!, bigTiff);
    pointer.bytes.copy(head, pointer.at);
    return { head, end, bigTiff };
  }

  /** Stops writing and deletes the temp files. Safe to call after a failed close. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await closeAndRemove(this.levels);
  }
}

async function copyInto(from: FileHandle, to: FileHandle, at: number): Promise<number> {
  const buffer = Buffer.alloc(COPY_CHUNK);
  let readAt = 0;
  for (;;) {
    const { bytesRead } = await from.read(buffer, 0, buffer.length, readAt);
    if (bytesRead === 0) return at;
    await to.write(buffer, 0, bytesRead, at);
    readAt += bytesRead;
    at += bytesRead;
  }
}

async function closeAndRemove(levels: readonly LevelStrip[]): Promise<void> {
  for (const level of levels) {
    await level.file.close().catch(() => undefined); // already closed after a previous call
    await rm(level.tempPath, { force: true });
  }
}
