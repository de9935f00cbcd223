import type { PlannedWindow } from '@fleet/grid';
import { outputKeys, type RunState } from '@fleet/jobs';
import type { StageClock } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { ObjectNotFoundError } from '@fleet/storage';
import { decodeMaskTile, type MaskTile } from '@fleet/tiles';

/**
 * Decoded mask tiles of the windows a block needs, fetched a row of output tiles ahead and
 * dropped once the merge has passed below them, so a 25,000 px block holds about two rows
 * of windows in memory, not the whole block. A window with no tile (skipped for lack of data,
 * or failed) contributes nothing; a missing tile for a window marked done is an error.
 */
export class WindowTileCache {
  private readonly tiles = new Map<string, Promise<MaskTile | undefined>>();
  bytesRead = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly state: RunState,
    private readonly runId: string,
    private readonly parallel: number,
    private readonly clock?: StageClock,
  ) {}

  /** Starts fetching these windows (bounded parallelism) and returns their tiles. */
  async load(windows: readonly PlannedWindow[]): Promise<Array<{ window: PlannedWindow; tile: MaskTile | undefined }>> {
    const missing = windows.filter((w) => !this.tiles.has(w.id));
    for (let i = 0; i < missing.length; i += this.parallel) {
      const slice = missing.slice(i, i + this.parallel);
      for (const w of slice) this.tiles.set(w.id, this.fetch(w));
      await Promise.all(slice.map((w) => this.tiles.get(w.id)));
    }
    return Promise.all(windows.map(async (window) => ({ window, tile: await this.tiles.get(window.id) })));
  }

  /** Forgets windows that end above row `y` (block pixel rows are processed top-down). */
  evictAbove(y: number, windows: readonly PlannedWindow[]): void {
    for (const w of windows) if (w.y + w.height <= y) this.tiles.delete(w.id);
  }

  private async fetch(window: PlannedWindow): Promise<MaskTile | undefined> {
    const key = outputKeys.maskTile(this.runId, window.id);
    try {
      const bytes = await this.store.get(key);
      this.bytesRead += bytes.length;
      const since = performance.now();
      const tile = decodeMaskTile(bytes, key);
      this.clock?.add('decode', since);
      return tile;
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
      const flags = await this.state.windowFlags(window.index);
      if (flags.skipped || flags.failed) return undefined;
      throw new Error(`${this.store.location}/${key}: mask tile missing for a window recorded as done`);
    }
  }
}
