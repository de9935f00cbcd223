/**
 * Pixel-interleaved uint8 blocks are split only into the samples a read asks for
 * (decoded-blocks.ts: an IRC source's R and G are never copied out nor cached); band-separate
 * files hold one sample per block, so they are the reference. The same pixels written both
 * ways must give the same window bytes, validity and counts: edges, nodata, alpha, internal
 * masks, RGB/IRC/E, a 5-band stack, DSM/DTM, band subsets in any order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PixelRect } from '@fleet/grid';
import { LocalStore } from '@fleet/storage';
import { writeGdalRaster } from '../../../test/support/gdal-raster';
import { openGeoTiff } from './geotiff-reader';
import { TileCache } from './tile-cache';
import { layOutMosaic, type ScannedSource } from './mosaic-layout';
import { MosaicReader, type MosaicWindow } from './mosaic-reader';
import type { ModelBand, SourceRoleName } from './source-roles';
import { scanSource } from './source-scan';
import { gdalinfoJson, itGdal, syntheticPlanes } from './test-support';

const RES = 0.2;
const X0 = 645000;
const Y0 = 6865000;
const W = 50; // not a multiple of the 16 px tiles: partial blocks on the right and bottom
const H = 40;
const ALL: ModelBand[] = ['R', 'G', 'B', 'NIR', 'E'];
const LAYOUTS = ['pixel', 'band'] as const;
type Layout = (typeof LAYOUTS)[number];

const gtAt = (col: number) => [X0 + col * W * RES, RES, 0, Y0, 0, -RES] as const;
const plane = (f: (x: number, y: number) => number) => {
  const p = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) p[y * W + x] = f(x, y);
  return p;
};
/** Synthetic bands with a block of pixels that are 0 in every band (nodata 0 hits them all). */
const bands = (count: number, seed: number) =>
  syntheticPlanes(W, H, count, seed).map((p) => p.map((v, i) => ((i % W) >= 20 && (i % W) < 26 && Math.floor(i / W) >= 12 && Math.floor(i / W) < 19 ? 0 : v)));

/** Windows across dalle seams, the mosaic's edges, partial blocks, and wholly inside. */
const WINDOWS: PixelRect[] = [
  { x: 0, y: 0, width: 2 * W, height: H },
  { x: -7, y: -5, width: 64, height: 30 },
  { x: 40, y: 30, width: 30, height: 20 },
  { x: 45, y: 3, width: 17, height: 17 },
  { x: 60, y: 10, width: 16, height: 16 },
];

describe('interleaved blocks split into the samples read give what band-separate ones do', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'interleaved-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const write = (layout: Layout, dir: string, col: number, planes: Uint8Array[], extra: { alpha?: boolean; mask?: Uint8Array; noData?: number; type?: string } = {}) =>
    writeGdalRaster(join(root, layout, dir, `d-${col}.tif`), { width: W, height: H, geoTransform: gtAt(col), epsg: 2154, type: extra.type ?? 'Byte', tile: 16, interleave: layout, ...extra }, planes);

  async function reader(layout: Layout, sources: Array<[string, SourceRoleName]>): Promise<MosaicReader> {
    const scanned: ScannedSource[] = [];
    const stores: LocalStore[] = [];
    for (const [dir, role] of sources) {
      stores.push(new LocalStore(join(root, layout, dir)));
      scanned.push(await scanSource(stores.at(-1)!, role));
    }
    const mosaic = layOutMosaic(scanned);
    return new MosaicReader(mosaic.sources.map((s, i) => ({ role: s.role, store: stores[i]!, dalles: s.dalles })));
  }

  async function readBoth(sources: Array<[string, SourceRoleName]>, order: ModelBand[]): Promise<Record<Layout, MosaicWindow[]>> {
    const out = {} as Record<Layout, MosaicWindow[]>;
    for (const layout of LAYOUTS) {
      const r = await reader(layout, sources);
      out[layout] = [];
      for (const w of WINDOWS) out[layout].push(await r.read(w, order));
      await r.close();
    }
    return out;
  }

  const expectSame = (got: Record<Layout, MosaicWindow[]>) => {
    WINDOWS.forEach((w, k) => {
      const [a, b] = [got.pixel[k]!, got.band[k]!];
      expect([w, a.validCount]).toEqual([w, b.validCount]);
      expect([w, Buffer.from(a.valid).equals(Buffer.from(b.valid))]).toEqual([w, true]);
      a.planes.forEach((p, i) => expect([w, i, Buffer.from(p).equals(Buffer.from(b.planes[i]!))]).toEqual([w, i, true]));
    });
  };

  beforeAll(() => {
    for (const layout of LAYOUTS) {
      // RGBA: alpha 0 on the left 10 columns of the first dalle; the second with nodata 0
      const rgb = bands(3, 1);
      write(layout, 'rgb', 0, [...rgb, plane((x) => (x < 10 ? 0 : 255))], { alpha: true });
      write(layout, 'rgb', 1, bands(3, 2), { noData: 0 });
      // IRC: an internal mask on the first dalle (rows 0..4 masked), plain second dalle
      write(layout, 'irc', 0, bands(3, 3), { mask: plane((_, y) => (y < 5 ? 0 : 1)) });
      write(layout, 'irc', 1, bands(3, 4));
      // E: nodata 0 in the first dalle only
      write(layout, 'e', 0, bands(1, 5), { noData: 0 });
      write(layout, 'e', 1, bands(1, 6));
      // 5-band stack with nodata 0, second dalle with an internal mask (GDAL's ALPHA=YES marks
      // the first extra sample of a 6-band MINISBLACK file, not the last, so no alpha here)
      write(layout, 'stack', 0, bands(5, 7), { noData: 0 });
      write(layout, 'stack', 1, bands(5, 8), { mask: plane((x, y) => ((x + y) % 9 === 0 ? 0 : 1)) });
      // DSM/DTM: float surfaces on the image grid, -9999 nodata in a corner
      const surface = (seed: number) => plane((x, y) => (x * 3 + y * 5 + seed) % 200).map((v) => v);
      for (const [dir, seed] of [['dsm', 40], ['dtm', 0]] as const) {
        for (const col of [0, 1]) {
          const values = Float32Array.from(surface(seed + col), (v, i) => (i % W < 3 && i < 3 * W ? -9999 : v + 0.37));
          writeGdalRaster(join(root, layout, dir, `d-${col}.tif`), { width: W, height: H, geoTransform: gtAt(col), epsg: 2154, type: 'Float32', tile: 16, noData: -9999, interleave: layout }, [values]);
        }
      }
    }
  }, 120_000);

  itGdal('the fixtures are written both ways (GDAL says so)', async () => {
    const interleave = async (layout: Layout) => (await gdalinfoJson(join(root, layout, 'irc', 'd-0.tif'))).metadata.IMAGE_STRUCTURE.INTERLEAVE;
    expect([await interleave('pixel'), await interleave('band')]).toEqual(['PIXEL', 'BAND']);
  });

  itGdal('RGB (alpha, nodata) + IRC (mask) + E (nodata): same windows', async () => {
    const got = await readBoth([['rgb', 'rgb'], ['irc', 'irc'], ['e', 'elevation']], ALL);
    expectSame(got);
    // not a vacuous comparison: data, and every kind of no data, is in there
    expect(got.pixel[0]!.validCount).toBeGreaterThan(0);
    expect(got.pixel[0]!.validCount).toBeLessThan(2 * W * H);
    // the band order the model asks for, not the file's
    const reordered = await readBoth([['rgb', 'rgb'], ['irc', 'irc'], ['e', 'elevation']], ['NIR', 'E', 'B', 'R', 'G']);
    expectSame(reordered);
    expect(Buffer.from(reordered.pixel[0]!.planes[0]!).equals(Buffer.from(got.pixel[0]!.planes[3]!))).toBe(true);
  }, 60_000);

  itGdal('a 5-band stack (nodata, mask): same windows', async () => {
    expectSame(await readBoth([['stack', 'stack']], ALL));
  }, 60_000);

  itGdal('E computed from DSM and DTM next to interleaved RGB and IRC: same windows', async () => {
    expectSame(await readBoth([['rgb', 'rgb'], ['irc', 'irc'], ['dsm', 'dsm'], ['dtm', 'dtm']], ALL));
  }, 60_000);

  itGdal('readWindow and readWindowFloat: band subsets, fill, into, outside the raster', async () => {
    const files = await Promise.all(LAYOUTS.map((l) => openGeoTiff(join(root, l, 'stack', 'd-1.tif'))));
    try {
      for (const w of [...WINDOWS, { x: -3, y: 37, width: 9, height: 9 }, { x: 51, y: 0, width: 4, height: 4 }]) {
        for (const bandList of [undefined, [3], [4, 0], [4, 2, 1]]) {
          const opts = { fill: 77, ...(bandList ? { bands: bandList } : {}) };
          const [a, b] = await Promise.all(files.map((f) => f.readWindow(w, opts)));
          expect([w, bandList, a!.map((p) => Buffer.from(p).toString('hex'))]).toEqual([w, bandList, b!.map((p) => Buffer.from(p).toString('hex'))]);
          const [fa, fb] = await Promise.all(files.map((f) => f.readWindowFloat(w, opts)));
          expect([w, bandList, fa!.map((p) => Array.from(p))]).toEqual([w, bandList, fb!.map((p) => Array.from(p))]);
          const into = (bandList ?? [0, 1, 2, 3, 4]).map(() => new Uint8Array(w.width * w.height).fill(9));
          await files[0]!.readWindow(w, { ...(bandList ? { bands: bandList } : {}), into });
          into.forEach((p, i) => expect([w, i, Buffer.from(p).equals(Buffer.from(a![i]!.map((v, j) => (v === 77 && (w.x + (j % w.width) < 0 || w.x + (j % w.width) >= W || w.y + Math.floor(j / w.width) < 0 || w.y + Math.floor(j / w.width) >= H) ? 9 : v))))]).toEqual([w, i, true]));
        }
      }
    } finally {
      await Promise.all(files.map((f) => f.close()));
    }
  }, 60_000);

  itGdal('keeps only the samples read in the cache: an IRC source read for NIR holds a third of its tiles', async () => {
    const cache = new TileCache(1 << 20);
    const file = await openGeoTiff(join(root, 'pixel', 'irc', 'd-1.tif'), { tileCache: cache });
    try {
      await file.readWindow({ x: 0, y: 0, width: 16, height: 16 }, { bands: [0] });
      expect(cache.stats()).toMatchObject({ misses: 1, bytes: 16 * 16 });
      await file.readWindow({ x: 0, y: 0, width: 16, height: 16 }, { bands: [0] });
      expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
      await file.readWindow({ x: 0, y: 0, width: 16, height: 16 }, { bands: [2, 0, 1] }); // another sample set: its own split
      expect(cache.stats()).toMatchObject({ misses: 2, bytes: 16 * 16 * 4 });
    } finally {
      await file.close();
    }
  });
});
