import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '@fleet/storage';
import { writeGeoTiff } from './write-geotiff';
import { layOutMosaic } from './mosaic-layout';
import { MosaicReader } from './mosaic-reader';
import { scanSource } from './source-scan';

const RES = 0.2;
const X0 = 645000;
const Y0 = 6865000;

/** Value of band b at mosaic pixel (x, y): distinct per band and position. */
const value = (b: number, x: number, y: number) => (x * 7 + y * 13 + b * 50) % 251;

async function dalle(dir: string, name: string, col: number, row: number, size: number, bands: readonly number[], opts: { epsg?: number; shift?: number; noData?: number } = {}) {
  mkdirSync(dir, { recursive: true });
  const planes = bands.map((b) => {
    const p = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) p[y * size + x] = value(b, col * size + x, row * size + y);
    return p;
  });
  await writeGeoTiff(join(dir, name), {
    width: size, height: size, bands: bands.length, tileSize: 32,
    geoTransform: [X0 + col * size * RES + (opts.shift ?? 0), RES, 0, Y0 - row * size * RES, 0, -RES],
    epsg: opts.epsg ?? 2154, ...(opts.noData !== undefined ? { noData: opts.noData } : {}),
  }, planes);
}

describe('mosaic layout and reader', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'mosaic-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lays out separate RGB/IRC/E dalles on one grid and reads windows across them', async () => {
    const rgb = new LocalStore(join(root, 'rgb'));
    const irc = new LocalStore(join(root, 'irc'));
    const ele = new LocalStore(join(root, 'e'));
    for (const [c, r] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      await dalle(join(root, 'rgb'), `d-${c}-${r}.tif`, c, r, 100, [0, 1, 2]);
      await dalle(join(root, 'irc'), `d-${c}-${r}.tif`, c, r, 100, [3, 0, 1]);
      if (!(c === 1 && r === 1)) await dalle(join(root, 'e'), `d-${c}-${r}.tif`, c, r, 100, [4]); // one E dalle missing
    }
    const layout = layOutMosaic([await scanSource(rgb, 'rgb'), await scanSource(irc, 'irc'), await scanSource(ele, 'elevation')]);
    expect(layout).toMatchObject({ width: 200, height: 200, epsg: 2154, geoTransform: [X0, RES, 0, Y0, 0, -RES] });
    expect(layout.sources[0]!.dalles.map((d) => [d.uri, d.x, d.y])).toEqual([['d-0-0.tif', 0, 0], ['d-0-1.tif', 0, 100], ['d-1-0.tif', 100, 0], ['d-1-1.tif', 100, 100]]);

    const stores = { rgb, irc, elevation: ele } as const;
    const reader = new MosaicReader(layout.sources.map((s) => ({ role: s.role, store: stores[s.role as keyof typeof stores], dalles: s.dalles })));
    const win = { x: 150, y: 60, width: 70, height: 80 }; // crosses all four dalles and the mosaic edge
    const got = await reader.read(win, ['R', 'G', 'B', 'NIR', 'E']);
    for (let y = 0; y < win.height; y++) {
      for (let x = 0; x < win.width; x++) {
        const mx = win.x + x, my = win.y + y, i = y * win.width + x;
        const inside = mx < 200 && my < 200;
        const missingE = mx >= 100 && my >= 100;
        // no E there: a class computed without it would pass for a real one, so no data
        expect(got.valid[i]).toBe(inside && !missingE ? 1 : 0);
        for (let b = 0; b < 5; b++) {
          expect([b, mx, my, got.planes[b]![i]]).toEqual([b, mx, my, inside && !(b === 4 && missingE) ? value(b, mx, my) : 0]);
        }
      }
    }
    expect(got.validCount).toBe(50 * 40);
    // the planes are consecutive views of one buffer: the model's input without a copy
    const n = win.width * win.height;
    got.planes.forEach((p, b) => {
      expect(p.buffer).toBe(got.planes[0]!.buffer);
      expect(p.byteOffset).toBe(got.planes[0]!.byteOffset + b * n);
    });
    // into a caller's reused buffer, stale bytes and all: the same window
    const into = new Uint8Array(5 * n).fill(0xa5);
    const again = await reader.read(win, ['R', 'G', 'B', 'NIR', 'E'], { into });
    expect(again.planes[0]!.buffer).toBe(into.buffer);
    again.planes.forEach((p, b) => expect(Buffer.compare(p, got.planes[b]!)).toBe(0));
    expect([Buffer.compare(again.valid, got.valid), again.validCount]).toEqual([0, got.validCount]);
    await expect(reader.read(win, ['R', 'G', 'B', 'NIR', 'E'], { into: new Uint8Array(5 * n - 1) })).rejects.toThrow(
      'read into 27999 bytes: a 70x80 px window of 5 band(s) is 28000',
    );
    // across two dalles that every source has: valid everywhere; one step down, E is missing
    expect((await reader.read({ x: 60, y: 60, width: 80, height: 40 }, ['R', 'E'])).validCount).toBe(80 * 40);
    expect((await reader.read({ x: 60, y: 61, width: 80, height: 40 }, ['R', 'E'])).validCount).toBe(80 * 40 - 40);
    await reader.close();
  });

  it('marks pixels equal to the nodata value in every band invalid', async () => {
    const store = new LocalStore(join(root, 's'));
    await dalle(join(root, 's'), 'a.tif', 0, 0, 64, [0, 1, 2, 3, 4], { noData: value(0, 0, 0) });
    const layout = layOutMosaic([await scanSource(store, 'stack')]);
    const reader = new MosaicReader([{ role: 'stack', store, dalles: layout.sources[0]!.dalles }]);
    const got = await reader.read({ x: 0, y: 0, width: 64, height: 64 }, ['R', 'G', 'B', 'NIR', 'E']);
    // value(b,0,0) differs per band, so no pixel has the nodata value in all five bands
    expect(got.validCount).toBe(64 * 64);
    await reader.close();
  });

  it('rejects inconsistent inputs naming the file', async () => {
    const a = join(root, 'a');
    await dalle(a, 'ok.tif', 0, 0, 50, [0, 1, 2]);
    await dalle(a, 'shifted.tif', 1, 0, 50, [0, 1, 2], { shift: 0.05 });
    await expect(scanSource(new LocalStore(a), 'rgb').then((s) => layOutMosaic([s]))).rejects.toThrow(/shifted\.tif: not aligned to the mosaic grid/);

    const b = join(root, 'b');
    await dalle(b, 'ok.tif', 0, 0, 50, [0, 1, 2]);
    await dalle(b, 'wgs.tif', 1, 0, 50, [0, 1, 2], { epsg: 32631 });
    await expect(scanSource(new LocalStore(b), 'rgb').then((s) => layOutMosaic([s]))).rejects.toThrow(/wgs\.tif: CRS EPSG:32631 is not Lambert-93/);

    const c = join(root, 'c');
    await dalle(c, 'two.tif', 0, 0, 50, [0, 1]);
    await expect(scanSource(new LocalStore(c), 'rgb').then((s) => layOutMosaic([s]))).rejects.toThrow(/two\.tif: has 2 band\(s\); a --rgb source needs 3/);

    await expect(scanSource(new LocalStore(join(root, 'empty')), 'rgb').then((s) => layOutMosaic([s]))).rejects.toThrow(/no GeoTIFF found in/);
  });
});
