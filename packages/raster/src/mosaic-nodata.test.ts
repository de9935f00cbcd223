import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalStore } from '@fleet/storage';
import { writeGdalRaster } from '../../../test/support/gdal-raster';
import { layOutMosaic, type ScannedSource } from './mosaic-layout';
import { MosaicReader } from './mosaic-reader';
import type { SourceRoleName } from './source-roles';
import { scanSource } from './source-scan';
import { writeGeoTiff } from './write-geotiff';

const RES = 0.2;
const X0 = 645000;
const Y0 = 6865000;
const W = 50;
const H = 40;
const GT = [X0, RES, 0, Y0, 0, -RES] as const;
const ALL = ['R', 'G', 'B', 'NIR', 'E'] as const;

const fill = (v: number | ((x: number, y: number) => number)) => {
  const p = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) p[y * W + x] = typeof v === 'number' ? v : v(x, y);
  return p;
};

/** A uint8 dalle of the project's own writer covering the whole W x H mosaic. */
const own = (path: string, planes: Uint8Array[], noData?: number) => {
  mkdirSync(dirname(path), { recursive: true });
  return writeGeoTiff(path, { width: W, height: H, bands: planes.length, tileSize: 16, epsg: 2154, geoTransform: [...GT], ...(noData === undefined ? {} : { noData }) }, planes);
};

describe('MosaicReader: where there is no data', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'nodata-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function reader(...sources: Array<[string, SourceRoleName]>): Promise<MosaicReader> {
    const scanned: ScannedSource[] = [];
    const stores: LocalStore[] = [];
    for (const [dir, role] of sources) {
      stores.push(new LocalStore(join(root, dir)));
      scanned.push(await scanSource(stores.at(-1)!, role));
    }
    const layout = layOutMosaic(scanned);
    return new MosaicReader(layout.sources.map((s, i) => ({ role: s.role, store: stores[i]!, dalles: s.dalles })));
  }

  it('honours an RGBA alpha band, an internal GDAL mask and a nodata value, in whichever source has them', async () => {
    // RGBA delivery: alpha 0 on the left 10 columns
    writeGdalRaster(join(root, 'rgb', 'a.tif'), { width: W, height: H, geoTransform: GT, epsg: 2154, type: 'Byte', alpha: true },
      [fill(1), fill(2), fill(3), fill((x) => (x < 10 ? 0 : 255))]);
    // IRC with an internal mask: rows 0..4 masked
    writeGdalRaster(join(root, 'irc', 'a.tif'), { width: W, height: H, geoTransform: GT, epsg: 2154, type: 'Byte', mask: fill((_, y) => (y < 5 ? 0 : 1)) },
      [fill(4), fill(1), fill(2)]);
    // E with nodata 0: 0 only at column 30
    await own(join(root, 'e', 'a.tif'), [fill((x) => (x === 30 ? 0 : 7))], 0);
    const r = await reader(['rgb', 'rgb'], ['irc', 'irc'], ['e', 'elevation']);
    const got = await r.read({ x: 0, y: 0, width: W, height: H }, ALL);
    await r.close();
    let expectedCount = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const valid = x >= 10 && y >= 5 && x !== 30 ? 1 : 0;
        expectedCount += valid;
        expect([x, y, got.valid[y * W + x]]).toEqual([x, y, valid]);
      }
    }
    expect(got.validCount).toBe(expectedCount);
    expect([got.planes[0]![0], got.planes[3]![W * H - 1], got.planes[4]![W * H - 1]]).toEqual([1, 4, 7]);
  }, 60_000);

  it('takes a pixel for nodata only where every band of the dalle holds the nodata value, wanted by the model or not', async () => {
    // RGB, nodata 0: R is 0 everywhere, G on the left 20 columns, B on the top 10 rows
    await own(join(root, 'rgb', 'a.tif'), [fill(0), fill((x) => (x < 20 ? 0 : 5)), fill((_, y) => (y < 10 ? 0 : 9))], 0);
    // IRC, nodata 0, read for its NIR only: NIR 0 on the right 10 columns, R everywhere, G on the bottom 10 rows
    await own(join(root, 'irc', 'a.tif'), [fill((x) => (x >= 40 ? 0 : 4)), fill(0), fill((_, y) => (y >= 30 ? 0 : 2))], 0);
    // a 5-band stack, nodata 0: all five 0 where x % 5 === 0 and y % 4 === 0, four of five elsewhere on those columns
    const stackBand = (b: number) => fill((x, y) => (x % 5 === 0 && (y % 4 === 0 || b !== y % 5) ? 0 : 10 + b));
    await own(join(root, 'stack', 'a.tif'), [0, 1, 2, 3, 4].map(stackBand), 0);

    const win = { x: -3, y: 2, width: W, height: H - 4 }; // past the left edge: clip and window differ
    const r = await reader(['rgb', 'rgb'], ['irc', 'irc']);
    const got = await r.read(win, ['R', 'G', 'B', 'NIR']);
    await r.close();
    const s = await reader(['stack', 'stack']);
    const stacked = await s.read(win, ALL);
    await s.close();
    for (let y = 0; y < win.height; y++) {
      for (let x = 0; x < win.width; x++) {
        const mx = win.x + x, my = win.y + y, i = y * win.width + x;
        const inside = mx >= 0;
        const valid = inside && !(mx < 20 && my < 10) && !(mx >= 40 && my >= 30) ? 1 : 0;
        expect([mx, my, got.valid[i]]).toEqual([mx, my, valid]);
        expect([mx, my, stacked.valid[i]]).toEqual([mx, my, inside && !(mx % 5 === 0 && my % 4 === 0) ? 1 : 0]);
      }
    }
    expect(got.validCount).toBe(got.valid.reduce((n, v) => n + v, 0));
    // the pixels themselves are read as they are, nodata or not
    expect([got.planes[1]![3], got.planes[1]![3 + 25], got.planes[3]![win.width - 1]]).toEqual([0, 5, 0]);
  }, 60_000);

  it('computes E = clip(round((DSM - DTM) * 5), 0, 255) from a DSM on the image grid and a coarser DTM in two dalles', async () => {
    await own(join(root, 'rgb', 'a.tif'), [fill(1), fill(2), fill(3)]);
    await own(join(root, 'irc', 'a.tif'), [fill(4), fill(1), fill(2)]);
    const dsmAt = (x: number, y: number) => (x === 5 && y === 5 ? -9999 : 100 + 0.2 * ((x * 7 + y * 3) % 70));
    const dsm = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) dsm[y * W + x] = dsmAt(x, y);
    writeGdalRaster(join(root, 'dsm', 'a.tif'), { width: W, height: H, geoTransform: GT, epsg: 2154, type: 'Float32', noData: -9999 }, [dsm]);
    // 1 m DTM: a plane, 100 + 0.2 u + 0.2 v at the centre of its pixel (u, v), its grid starting
    // 2 m west and 3 m north of the image; columns 0..6 in one dalle, 7..11 in another, so the
    // image's last two columns (centres past u = 11) have no DTM on their east side
    const plane = (u: number, v: number) => 100 + 0.2 * u + 0.2 * v;
    const dtmDalle = (name: string, col0: number, cols: number) => {
      const values = new Float32Array(cols * 15);
      for (let v = 0; v < 15; v++) for (let c = 0; c < cols; c++) values[v * cols + c] = plane(col0 + c, v);
      writeGdalRaster(join(root, 'dtm', name), { width: cols, height: 15, geoTransform: [X0 - 2 + col0, 1, 0, Y0 + 3, 0, -1], epsg: 2154, type: 'Float32' }, [values]);
    };
    dtmDalle('west.tif', 0, 7);
    dtmDalle('east.tif', 7, 5);

    const r = await reader(['rgb', 'rgb'], ['irc', 'irc'], ['dsm', 'dsm'], ['dtm', 'dtm']);
    const win = { x: 3, y: 2, width: W - 3, height: H - 2 };
    const got = await r.read(win, ALL);
    await r.close();
    for (let y = 0; y < win.height; y++) {
      for (let x = 0; x < win.width; x++) {
        const mx = win.x + x, my = win.y + y, i = y * win.width + x;
        // the image pixel's centre in DTM pixels (image pixel = 0.2 m, DTM origin 10 px west, 15 px north)
        const u = (mx + 0.5 + 10) / 5 - 0.5;
        const v = (my + 0.5 + 15) / 5 - 0.5;
        const valid = mx < 48 && !(mx === 5 && my === 5) ? 1 : 0;
        const e = valid ? Math.min(255, Math.max(0, Math.round((dsmAt(mx, my) - plane(u, v)) * 5))) : 0;
        expect([mx, my, got.valid[i], got.planes[4]![i]]).toEqual([mx, my, valid, e]);
      }
    }
    // the values span the range, clipping at 0 included
    expect(Math.max(...got.planes[4]!)).toBeGreaterThan(50);
    expect(got.planes[4]!.filter((e, i) => e === 0 && got.valid[i] === 1).length).toBeGreaterThan(0);
  }, 60_000);
});
