import { offsetGeoTransform, planWindows, iterateWindows, BlockIndex } from '@fleet/grid';
import { geometryOf, outputKeys, RunState, type RunSpec } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { encodeMaskTile } from '@fleet/tiles';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromFile } from 'geotiff';
import { PNG } from 'pngjs';
import { syntheticMaskTile } from '../../../test/support/mask-tile-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { stacCollectionProblems, stacItemProblems } from '../../../test/support/stac-check';
import { finalizeRun } from './finalize-run';
import { mergeBlock } from './merge-block';
import { deleteMergedTiles, windowsFreedBy } from './tile-cleanup';

const run = promisify(execFile);
const WIDTH = 1400;
const HEIGHT = 900;
const classAt = (x: number, y: number) => (x < 40 && y < 40 ? 0 : 1 + (((x >> 6) + (y >> 6)) % 3));

function makeSpec(runId: string, output: string): RunSpec {
  return syntheticRunSpec({
    runId,
    width: WIDTH,
    height: HEIGHT,
    createdAt: '2026-11-24T10:00:00.000Z',
    geoTransform: [645000, 0.2, 0, 6865000, 0, -0.2],
    model: { location: '/m', name: 'flair-inc', version: '1', classes: [
      { id: 1, name: 'building', color: '#db0e9a' }, { id: 2, name: 'pervious surface', color: '#938e7b' }, { id: 3, name: 'impervious surface', color: '#f80c00' },
    ] },
    output,
    topK: 1,
    blocks: [{ id: 'left', x: 0, y: 0, width: 700, height: HEIGHT }, { id: 'right', x: 700, y: 0, width: 700, height: HEIGHT }],
    // not the plan's 12: preparedRun stores the run with its real window count
    windowCount: 9,
  });
}

/** A run whose every window is done, its tiles in a local store, as the merger finds it. */
async function preparedRun(redis: ReturnType<typeof createRedisConnection>, name: string, failed: (w: { id: string }) => boolean = () => false) {
  const dir = await mkdtemp(join(tmpdir(), `fleet-merge-${name}-`));
  const spec = makeSpec(`run-${name}`, dir);
  const store = new LocalStore(dir);
  const state = new RunState(redis, uniquePrefix(name), spec.runId);
  const plan = planWindows(WIDTH, HEIGHT, { patch: 512, overlap: 128 });
  const index = new BlockIndex(spec.blocks);
  const windows = [...iterateWindows(plan)];
  const perBlock = new Map<string, number>();
  for (const w of windows) for (const id of index.touching(w)) perBlock.set(id, (perBlock.get(id) ?? 0) + 1);
  await state.init({ ...spec, windowCount: windows.length }, perBlock);
  for (const w of windows) {
    if (failed(w)) {
      await state.completeWindow(w.index, w.id, 'failed', index.touching(w), {}, 'a.tif: corrupt tile');
      continue;
    }
    await store.put(outputKeys.maskTile(spec.runId, w.id), encodeMaskTile(syntheticMaskTile(plan, w, classAt)));
    await state.completeWindow(w.index, w.id, 'done', index.touching(w));
  }
  return { dir, spec, store, state, plan, index, windows };
}

const tileKeys = (store: LocalStore, runId: string) => store.list(outputKeys.maskTiles(runId));

describe('merging blocks into COGs, then the run products', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('merges a block into a valid COG byte-identically twice, deletes tiles only once all their blocks are merged, and writes every product', async () => {
    const { dir, spec, store, state, plan, index, windows } = await preparedRun(redis, 'full');
    try {
      const [left, right] = spec.blocks as [RunSpec['blocks'][number], RunSpec['blocks'][number]];
      const first = await mergeBlock(spec, left, state, store, { fetchParallel: 4 });
      const bytes = await readFile(join(dir, outputKeys.block(spec.runId, 'left')));
      const again = await mergeBlock(spec, left, state, store, { fetchParallel: 4 });
      expect((await readFile(join(dir, outputKeys.block(spec.runId, 'left')))).equals(bytes)).toBe(true);
      expect(again.classPixels).toEqual(first.classPixels);

      // the block is the map, and carries a 350x450 mode overview
      const tiff = await fromFile(join(dir, outputKeys.block(spec.runId, 'left')));
      expect(await tiff.getImageCount()).toBe(2);
      const [pixels] = (await (await tiff.getImage(0)).readRasters()) as unknown as Uint8Array[];
      let mismatches = 0;
      for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < 700; x++) if (pixels![y * 700 + x] !== classAt(x, y)) mismatches++;
      expect(mismatches).toBe(0);
      const overview = await tiff.getImage(1);
      expect([overview.getWidth(), overview.getHeight()]).toEqual([350, 450]);
      const { stdout } = await run('/usr/bin/python3', ['-m', 'osgeo_utils.samples.validate_cloud_optimized_geotiff', '--full-check=yes', join(dir, outputKeys.block(spec.runId, 'left'))]);
      expect(stdout).toContain('is a valid cloud optimized GeoTIFF');
      const info = JSON.parse((await run('gdalinfo', ['-json', join(dir, outputKeys.block(spec.runId, 'left'))])).stdout);
      expect(info.geoTransform).toEqual(offsetGeoTransform(spec.mosaic.geoTransform, 0, 0));
      expect(info.bands[0].colorTable.entries[2]).toEqual([0x93, 0x8e, 0x7b, 255]);
      expect(info.bands[0].description).toBe('FLAIR land-cover class');
      expect(info.metadata[''].FLAIR_CLASSES).toBe('1:building;2:pervious surface;3:impervious surface');

      // left merged: only the windows that feed nothing else go
      await state.completeBlock(first);
      const leftOnly = windows.filter((w) => index.touching(w).join() === 'left');
      expect(windowsFreedBy(geometryOf(spec), left, await state.mergedBlocks()).map((w) => w.id)).toEqual(leftOnly.map((w) => w.id));
      expect(await deleteMergedTiles(spec, left, state, store)).toBe(leftOnly.length);
      expect(await tileKeys(store, spec.runId)).toHaveLength(windows.length - leftOnly.length);

      await state.completeBlock(await mergeBlock(spec, right, state, store, { fetchParallel: 4 }));
      expect(await deleteMergedTiles(spec, right, state, store)).toBe(windows.length - leftOnly.length);
      expect(await tileKeys(store, spec.runId)).toEqual([]);

      const report = await finalizeRun(spec, state, store);
      expect(report.maskTiles).toEqual({ removed: true, remaining: 0 });
      const runDir = join(dir, 'runs', spec.runId);
      expect(JSON.parse(await readFile(join(dir, 'current.json'), 'utf8'))).toMatchObject({ runId: spec.runId, report: `runs/${spec.runId}/run.json`, previous: null });
      expect(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')).maskTiles).toEqual({ removed: true, remaining: 0 });

      // areas: the same figures as run.json, and the pixels of the map (20 cm: 25 px per m2 -> ha = px * 0.04 / 1e4)
      const expected = new Map<number, number>();
      for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) if (classAt(x, y)) expected.set(classAt(x, y), (expected.get(classAt(x, y)) ?? 0) + 1);
      const csv = (await readFile(join(runDir, 'areas.csv'), 'utf8')).trim().split('\n');
      expect(csv[0]).toBe('block,class_id,class_name,pixels,hectares');
      expect(csv).toHaveLength(1 + 3 * 3);
      for (const id of [1, 2, 3]) {
        const total = csv.find((l) => l.startsWith(`total,${id},`))!.split(',');
        expect(Number(total[3])).toBe(expected.get(id));
        expect(Number(total[4])).toBeCloseTo((expected.get(id)! * 0.04) / 10_000, 2);
      }
      const areas = JSON.parse(await readFile(join(runDir, 'areas.json'), 'utf8'));
      expect(areas.total.map((c: { pixels: number }) => c.pixels)).toEqual(report.classes.map((c) => c.pixels));

      // STAC: valid documents whose hrefs resolve to the files written
      const collection = JSON.parse(await readFile(join(dir, 'stac', 'collection.json'), 'utf8'));
      expect(stacCollectionProblems(collection)).toEqual([]);
      for (const id of ['left', 'right']) {
        const item = JSON.parse(await readFile(join(runDir, 'stac', 'items', `${id}.json`), 'utf8'));
        expect(stacItemProblems(item)).toEqual([]);
        await expect(readFile(join(runDir, 'stac', 'items', item.assets.landcover.href))).resolves.toBeDefined();
        // first run: every pixel of the block is gained, nothing lost
        expect(item.properties['fleet:changes']).toMatchObject({ since: null, lost_ha: {} });
      }
      for (const asset of Object.values(collection.assets) as Array<{ href: string }>) await expect(readFile(join(dir, 'stac', asset.href))).resolves.toBeDefined();

      // quicklook: the whole mosaic (1400 px wide fits 1024 only at factor 2), legend to the right
      const png = PNG.sync.read(await readFile(join(runDir, 'quicklook.png')));
      expect(png.width).toBeGreaterThan(700);
      const at = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4)];
      expect(at(100, 100)).toEqual([0xdb, 0x0e, 0x9a, 255]); // mosaic (200, 200): class 1 + (3 + 3) % 3 = 1
      expect(at(5, 5)[3]).toBe(0); // nodata corner, transparent

      // the VRT over the blocks reads with GDAL
      const vrt = JSON.parse((await run('gdalinfo', ['-json', join(dir, 'mosaic.vrt')])).stdout);
      expect(vrt.size).toEqual([WIDTH, HEIGHT]);

      // changes.json against nothing: every class pixel gained, the same hectares as run.json
      const changes = JSON.parse(await readFile(join(runDir, 'changes.json'), 'utf8'));
      expect(changes.previous).toBeNull();
      for (const c of report.classes) expect(changes.total.gainedHa[String(c.id)] ?? 0).toBeCloseTo((c.pixels * 0.04) / 10_000, 4);
      expect(changes.total.lostHa).toEqual({});
      expect(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')).blocks).toEqual({ left: outputKeys.block(spec.runId, 'left'), right: outputKeys.block(spec.runId, 'right') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000); // three merges and a finalisation; slow only on a loaded machine

  it('keeps the tiles an incomplete block needs for fleet retry, and deletes the rest', async () => {
    const lastWindow = (w: { id: string }) => w.id === 'r1-c3'; // the bottom-right window: only in the right block
    const { dir, spec, store, state, index, windows } = await preparedRun(redis, 'incomplete', lastWindow);
    try {
      const [left, right] = spec.blocks as [RunSpec['blocks'][number], RunSpec['blocks'][number]];
      expect(windows.filter(lastWindow).map((w) => index.touching(w))).toEqual([['right']]);
      for (const block of [left, right]) {
        await state.completeBlock(await mergeBlock(spec, block, state, store, { fetchParallel: 4 }));
        await deleteMergedTiles(spec, block, state, store);
      }
      // the right block is merged but incomplete: every tile it reads stays, left-only ones go
      const rightTiles = windows.filter((w) => index.touching(w).includes('right') && !lastWindow(w)).map((w) => outputKeys.maskTile(spec.runId, w.id));
      expect((await tileKeys(store, spec.runId)).sort()).toEqual([...rightTiles].sort());
      const report = await finalizeRun(spec, state, store);
      expect(report.complete).toBe(false);
      expect(report.maskTiles).toEqual({ removed: true, remaining: rightTiles.length });
      expect((await tileKeys(store, spec.runId)).sort()).toEqual([...rightTiles].sort());
      // so a retry can merge the block again from the same tiles
      const before = await readFile(join(dir, outputKeys.block(spec.runId, 'right')));
      await mergeBlock(spec, right, state, store, { fetchParallel: 4 });
      expect((await readFile(join(dir, outputKeys.block(spec.runId, 'right')))).equals(before)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('keeps the mask tiles when asked, and says so in run.json', async () => {
    const { dir, spec, store, state, windows } = await preparedRun(redis, 'keep');
    try {
      for (const block of spec.blocks) await state.completeBlock(await mergeBlock(spec, block, state, store, { fetchParallel: 4 }));
      const report = await finalizeRun(spec, state, store, { keepTiles: true });
      expect(report.maskTiles).toEqual({ removed: false, remaining: windows.length });
      expect(await tileKeys(store, spec.runId)).toHaveLength(windows.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
