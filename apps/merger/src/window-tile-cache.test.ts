import { BlockIndex, iterateWindows, planWindows, type PlannedWindow } from '@fleet/grid';
import { outputKeys, RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore, type ObjectStore } from '@fleet/storage';
import { encodeMaskTile, MaskTileFormatError } from '@fleet/tiles';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticMaskTile } from '../../../test/support/mask-tile-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { WindowTileCache } from './window-tile-cache';

const WIDTH = 1400;
const HEIGHT = 900;
const classAt = (x: number, y: number) => 1 + (((x >> 6) + (y >> 6)) % 3);

/**
 * A LocalStore seen as S3 sees it, with no local paths (so the cache reads through get(),
 * ahead when asked), counting its reads and the most it had in flight at once.
 */
class CountingStore implements ObjectStore {
  readonly local: LocalStore;
  reads = 0;
  inFlight = 0;
  mostInFlight = 0;
  constructor(root: string) {
    this.local = new LocalStore(root);
  }
  get location(): string {
    return this.local.location;
  }
  async get(key: string): Promise<Buffer> {
    this.reads++;
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      return await this.local.get(key);
    } finally {
      this.inFlight--;
    }
  }
  put(key: string, body: Uint8Array): Promise<void> {
    return this.local.put(key, body);
  }
  putFile(key: string, path: string): Promise<void> {
    return this.local.putFile(key, path);
  }
  getRange(key: string, offset: number, length: number): Promise<Buffer> {
    return this.local.getRange(key, offset, length);
  }
  head(key: string): Promise<{ size: number; etag?: string } | undefined> {
    return this.local.head(key);
  }
  list(prefix: string): Promise<string[]> {
    return this.local.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.local.delete(key);
  }
  localPath(): undefined {
    return undefined;
  }
}

/** A run whose windows have tiles in a local store, except those `outcome` says are skipped, failed or missing. */
async function tiledRun(
  redis: ReturnType<typeof createRedisConnection>,
  name: string,
  outcome: (w: PlannedWindow) => 'done' | 'skipped' | 'failed' | 'missing' | 'corrupt' = () => 'done',
) {
  const dir = await mkdtemp(join(tmpdir(), `fleet-tile-cache-${name}-`));
  const spec = syntheticRunSpec({ runId: `run-${name}`, width: WIDTH, height: HEIGHT, output: dir, topK: 1, blocks: [{ id: 'all', x: 0, y: 0, width: WIDTH, height: HEIGHT }] });
  const store = new CountingStore(dir);
  const state = new RunState(redis, uniquePrefix(name), spec.runId);
  const plan = planWindows(WIDTH, HEIGHT, { patch: 512, overlap: 128 });
  const index = new BlockIndex(spec.blocks);
  const windows = [...iterateWindows(plan)];
  await state.init({ ...spec, windowCount: windows.length }, new Map([['all', windows.length]]));
  for (const w of windows) {
    const what = outcome(w);
    const key = outputKeys.maskTile(spec.runId, w.id);
    if (what === 'done' || what === 'corrupt') await store.put(key, what === 'done' ? encodeMaskTile(syntheticMaskTile(plan, w, classAt)) : Buffer.from('not a tile'));
    await state.completeWindow(w.index, w.id, what === 'skipped' || what === 'failed' ? what : 'done', index.touching(w));
  }
  return { dir, spec, store, state, windows };
}

describe('WindowTileCache', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('reads each prefetched tile once, decodes it when loaded, gives no tile for a skipped window, and reads again after eviction', async () => {
    const skipped = (w: PlannedWindow) => w.row === 0 && w.col === 1;
    const { dir, spec, store, state, windows } = await tiledRun(redis, 'reads', (w) => (skipped(w) ? 'skipped' : 'done'));
    try {
      const cache = new WindowTileCache(store, state, spec.runId, 3);
      const firstRow = windows.filter((w) => w.row === 0);
      cache.prefetch(firstRow);
      cache.prefetch(firstRow); // asking twice reads once
      const loaded = await cache.load(firstRow);
      expect(store.reads).toBe(firstRow.length);
      expect(store.mostInFlight).toBeLessThanOrEqual(3);
      for (const { window, tile } of loaded) {
        if (skipped(window)) {
          expect(tile).toBeUndefined();
          continue;
        }
        expect(tile!.width).toBe(window.width);
        expect(tile!.argmax[0]).toBe(classAt(window.x, window.y));
      }
      expect((await cache.load(firstRow)).map((l) => l.tile)).toEqual(loaded.map((l) => l.tile)); // no second read
      expect(store.reads).toBe(firstRow.length);
      cache.evictAbove(HEIGHT, firstRow);
      await cache.load(firstRow.slice(0, 1));
      expect(store.reads).toBe(firstRow.length + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports a missing tile of a done window when its row is loaded, also when it was prefetched and failed meanwhile', async () => {
    // (that a prefetched read failing is not an unhandled rejection, which would crash the merger,
    // cannot be seen from here: jest gives the test a process object of its own, which Node's
    // unhandledRejection events do not reach)
    const missing = (w: PlannedWindow) => w.row === 1 && w.col === 2;
    const { dir, spec, store, state, windows } = await tiledRun(redis, 'missing', (w) => (missing(w) ? 'missing' : 'done'));
    try {
      const cache = new WindowTileCache(store, state, spec.runId, 2);
      cache.prefetch(windows.filter((w) => w.row === 1));
      await cache.load(windows.filter((w) => w.row === 0));
      await new Promise((resolve) => setTimeout(resolve, 50)); // the failed read has settled
      await expect(cache.load(windows.filter((w) => w.row === 1))).rejects.toThrow(
        `${dir}/${outputKeys.maskTile(spec.runId, windows.find(missing)!.id)}: mask tile missing for a window recorded as done`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('rejects a corrupt tile with an error naming its key', async () => {
    const corrupt = (w: PlannedWindow) => w.row === 0 && w.col === 0;
    const { dir, spec, store, state, windows } = await tiledRun(redis, 'corrupt', (w) => (corrupt(w) ? 'corrupt' : 'done'));
    try {
      const cache = new WindowTileCache(store, state, spec.runId, 4);
      const load = cache.load(windows.filter((w) => w.row === 0));
      await expect(load).rejects.toThrow(MaskTileFormatError);
      await expect(load).rejects.toThrow(`${outputKeys.maskTile(spec.runId, windows.find(corrupt)!.id)}: not a flair-fleet mask tile (bad magic)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reads a local store\'s tiles from their files when loaded: no tile for a failed window, an error for a missing or corrupt one', async () => {
    const at = (row: number, col: number) => (w: PlannedWindow) => w.row === row && w.col === col;
    const outcome = (w: PlannedWindow) => (at(0, 1)(w) ? 'failed' : at(1, 0)(w) ? 'missing' : at(1, 2)(w) ? 'corrupt' : 'done');
    const { dir, spec, state, windows } = await tiledRun(redis, 'local', outcome);
    try {
      const store = new LocalStore(dir);
      const cache = new WindowTileCache(store, state, spec.runId, 2);
      const firstRow = windows.filter((w) => w.row === 0);
      cache.prefetch(firstRow); // nothing to do ahead for a local store
      const loaded = await cache.load(firstRow);
      let bytes = 0;
      for (const { window, tile } of loaded) {
        if (at(0, 1)(window)) {
          expect(tile).toBeUndefined();
          continue;
        }
        expect(tile!.argmax[0]).toBe(classAt(window.x, window.y));
        bytes += (await stat(store.localPath(outputKeys.maskTile(spec.runId, window.id)))).size;
      }
      expect(cache.bytesRead).toBe(bytes);
      const key = (w: PlannedWindow) => outputKeys.maskTile(spec.runId, w.id);
      await expect(cache.load(windows.filter(at(1, 0)))).rejects.toThrow(`${dir}/${key(windows.find(at(1, 0))!)}: mask tile missing for a window recorded as done`);
      await expect(cache.load(windows.filter(at(1, 2)))).rejects.toThrow(`${key(windows.find(at(1, 2))!)}: not a flair-fleet mask tile (bad magic)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
