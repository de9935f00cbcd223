/** What a TileCache has done so far, for tests and the worker benchmark. */
export interface TileCacheStats {
  /** Blocks served from the cache (including ones still being decoded for another read). */
  hits: number;
  /** Blocks fetched and decoded. */
  misses: number;
  /** Bytes of decoded blocks held now (never above maxBytes). */
  bytes: number;
  entries: number;
}

interface Entry {
  owner: number;
  bytes: number;
  value: Promise<unknown>;
}

/**
 * A least-recently-used cache of decoded raster blocks under a byte budget, shared by every
 * open RasterFile so the budget bounds the whole process, however many dalles are open.
 *
 * Hand-written (a Map in insertion order is the LRU list) rather than lru-cache because
 * entries are promises counted at their known decoded size from the moment the decode
 * starts: concurrent reads of overlapping windows then share one fetch+decode, and
 * in-flight decodes count against the budget. A failed load is dropped so that a transient
 * fetch error is retried by the next read.
 */
export class TileCache {
  private readonly entries = new Map<string, Entry>();
  private nextOwner = 1;
  private held = 0;
  private hits = 0;
  private misses = 0;

  private budget: number;

  /** @param maxBytes budget for decoded blocks held, across all files; 0 disables caching. */
  constructor(maxBytes: number) {
    this.budget = checkBudget(maxBytes);
  }

  get maxBytes(): number {
    return this.budget;
  }

  /** Changes the budget (e.g. from a worker's settings), evicting down to it at once. */
  resize(maxBytes: number): void {
    this.budget = checkBudget(maxBytes);
    this.evictToBudget();
  }

  /** A fresh owner id for one open file: its keys are its own, and `release` drops them at close. */
  newOwner(): number {
    return this.nextOwner++;
  }

  /**
   * The block under (owner, key): from the cache, or from `load` (then cached when `bytes`
   * fits in the budget, evicting the least recently used blocks).
   */
  get<T>(owner: number, key: string, bytes: number, load: () => Promise<T>): Promise<T> {
    const id = `${owner}/${key}`;
    const found = this.entries.get(id);
    if (found) {
      this.hits++;
      this.entries.delete(id);
      this.entries.set(id, found);
      return found.value as Promise<T>;
    }
    this.misses++;
    const value = load();
    if (bytes > this.maxBytes) return value;
    const entry: Entry = { owner, bytes, value };
    this.entries.set(id, entry);
    this.held += bytes;
    value.catch(() => {
      if (this.entries.get(id) === entry) this.remove(id, entry);
    });
    this.evictToBudget();
    return value;
  }

  /** Drops every block of one owner (its file was closed). */
  release(owner: number): void {
    for (const [id, entry] of this.entries) if (entry.owner === owner) this.remove(id, entry);
  }

  stats(): TileCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.held, entries: this.entries.size };
  }

  private evictToBudget(): void {
    for (const [id, entry] of this.entries) {
      if (this.held <= this.budget) break;
      this.remove(id, entry);
    }
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.held -= entry.bytes;
  }
}

function checkBudget(maxBytes: number): number {
  if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new RangeError(`tile cache budget must be >= 0 bytes, got ${maxBytes}`);
  return maxBytes;
}

/**
 * Default budget of the process-wide cache (256 MiB). Blocks a window shares with its left
 * neighbour are always still held; those it shares with the window above are held while a
 * whole row of windows fits: one 25,000 px BD ORTHO dalle row with RGB + IRC + E sources in
 * 256 px tiles decodes about 3 x 256 x 25,000 x 7 bytes = 134 MB per row of windows.
 */
export const DEFAULT_TILE_CACHE_BYTES = 256 * 1024 * 1024;

/** The cache openGeoTiff uses unless given another. */
export const sharedTileCache = new TileCache(DEFAULT_TILE_CACHE_BYTES);
