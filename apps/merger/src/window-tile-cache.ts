import { readFileSync } from 'node:fs';
import type { PlannedWindow } from '@fleet/grid';
import { outputKeys, type RunState } from '@fleet/jobs';
import type { StageClock } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { ObjectNotFoundError } from '@fleet/storage';
import { decodeMaskTile, PlanePool, type MaskTile } from '@fleet/tiles';

/**
 * Decoded mask tiles of the windows a block needs, dropped once the merge has passed below
 * them, so a 25,000 px block holds about two rows of windows in memory, not the whole block.
 * The merge asks for the next row's tiles ahead (prefetch): from S3 they download while it
 * blends the current row. From a local store they are read when their row is loaded, with one
 * synchronous read each (about 0.1 ms from the page cache): fs.promises.readFile takes four
 * thread-pool round trips (open, stat, read, close), which advance only when the event loop
 * turns, and a merge blending a row of tiles turns it rarely, so reads started ahead were
 * still waited for (BENCHMARKS.md, "Merger speed"). A tile is decoded only when its row is
 * loaded. A window with no tile (skipped for lack of data, or failed) contributes nothing; a
 * missing tile for a window marked done is an error.
 */
export class WindowTileCache {
  /** Tile bytes being read or read and not yet decoded (undefined: the window has no tile). */
  private readonly fetched = new Map<string, Promise<Buffer | undefined>>();
  private readonly decoded = new Map<string, MaskTile | undefined>();
  /** Reads not started yet: at most `parallel` are in flight. */
  private readonly waiting: Array<{ window: PlannedWindow; settle: (read: Promise<Buffer | undefined>) => void }> = [];
  private inFlight = 0;
  /** Soft planes of evicted tiles, for the next ones decoded. */
  private readonly planes = new PlanePool();
  bytesRead = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly state: RunState,
    private readonly runId: string,
    private readonly parallel: number,
    private readonly clock?: StageClock,
  ) {}

  /** Starts reading these windows' tiles (bounded parallelism) without waiting for them. */
  prefetch(windows: readonly PlannedWindow[]): void {
    for (const window of windows) {
      if (this.fetched.has(window.id) || this.decoded.has(window.id)) continue;
      if (this.store.localPath(outputKeys.maskTile(this.runId, window.id)) !== undefined) continue; // read when loaded
      let settle!: (read: Promise<Buffer | undefined>) => void;
      const bytes = new Promise<Buffer | undefined>((resolve) => (settle = resolve));
      // a failed read is reported by load(), which awaits it; not as an unhandled rejection meanwhile
      bytes.catch(() => undefined);
      this.fetched.set(window.id, bytes);
      this.waiting.push({ window, settle });
    }
    this.startReads();
  }

  /** These windows' tiles, read (if not already) and decoded. */
  async load(windows: readonly PlannedWindow[]): Promise<Array<{ window: PlannedWindow; tile: MaskTile | undefined }>> {
    this.prefetch(windows);
    const loaded: Array<{ window: PlannedWindow; tile: MaskTile | undefined }> = [];
    for (const window of windows) {
      if (!this.decoded.has(window.id)) {
        const path = this.store.localPath(outputKeys.maskTile(this.runId, window.id));
        const bytes = path === undefined ? await this.fetched.get(window.id)! : await this.readLocal(window, path);
        const since = performance.now();
        this.decoded.set(window.id, bytes && decodeMaskTile(bytes, outputKeys.maskTile(this.runId, window.id), this.planes));
        this.clock?.add('decode', since);
        this.fetched.delete(window.id); // the bytes are not needed any more
      }
      loaded.push({ window, tile: this.decoded.get(window.id) });
    }
    return loaded;
  }

  /**
   * Forgets windows that end above row `y` (block pixel rows are processed top-down); their
   * tiles must not be read after this (their planes are reused).
   */
  evictAbove(y: number, windows: readonly PlannedWindow[]): void {
    for (const w of windows) {
      if (w.y + w.height > y) continue;
      // the merge reads a row's tiles only until it evicts them: their planes can be reused
      const tile = this.decoded.get(w.id);
      if (tile) this.planes.give(tile);
      this.decoded.delete(w.id);
      this.fetched.delete(w.id);
    }
  }

  private startReads(): void {
    while (this.inFlight < this.parallel && this.waiting.length > 0) {
      const { window, settle } = this.waiting.shift()!;
      this.inFlight++;
      const read = this.read(window);
      settle(read);
      read
        .finally(() => {
          this.inFlight--;
          this.startReads();
        })
        .catch(() => undefined); // handled where load() awaits it
    }
  }

  private async read(window: PlannedWindow): Promise<Buffer | undefined> {
    const key = outputKeys.maskTile(this.runId, window.id);
    try {
      const bytes = await this.store.get(key);
      this.bytesRead += bytes.length;
      return bytes;
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
      return this.noTile(window, key);
    }
  }

  /** A local store's tile, read synchronously from its file `path`. */
  private async readLocal(window: PlannedWindow, path: string): Promise<Buffer | undefined> {
    try {
      const bytes = readFileSync(path);
      this.bytesRead += bytes.length;
      return bytes;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return this.noTile(window, outputKeys.maskTile(this.runId, window.id));
    }
  }

  /** No tile for `window`: nothing to blend if it was skipped or failed; an error if it is recorded as done. */
  private async noTile(window: PlannedWindow, key: string): Promise<undefined> {
    const flags = await this.state.windowFlags(window.index);
    if (flags.skipped || flags.failed) return undefined;
    throw new Error(`${this.store.location}/${key}: mask tile missing for a window recorded as done`);
  }
}
