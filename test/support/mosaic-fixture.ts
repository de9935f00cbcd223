import { writeGeoTiff } from '../../packages/raster/src';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const ORIGIN: readonly [number, number] = [645_000, 6_865_000];
export const RES = 0.2;

export interface StackFixture {
  dir: string;
  width: number;
  height: number;
  /** [R,G,B,NIR,E] planes of the whole mosaic, zero where no dalle exists. */
  planes: Uint8Array[];
  /** 1 where a dalle covers the pixel. */
  covered: Uint8Array;
  dalles: Array<{ name: string; x: number; y: number; width: number; height: number }>;
}

/** Deterministic texture: smooth fields plus noise, different per band. */
function pixel(b: number, x: number, y: number): number {
  const v = 128 + 60 * Math.sin((x + 17 * b) / (23 + 5 * b)) + 50 * Math.cos((y - 11 * b) / (31 + 3 * b));
  const noise = ((x * 73856093) ^ (y * 19349663) ^ (b * 83492791)) & 15;
  return Math.max(0, Math.min(255, Math.round(v + noise - 8)));
}

/**
 * A 5-band stack mosaic of `cols` x `rows` dalles of `w` x `h` px, with the dalles listed in
 * `missing` left out (a hole of nodata, like a département's edge).
 */
export async function writeStackMosaic(dir: string, cols: number, rows: number, w: number, h: number, missing: string[] = []): Promise<StackFixture> {
  mkdirSync(dir, { recursive: true });
  const width = cols * w;
  const height = rows * h;
  const planes = Array.from({ length: 5 }, () => new Uint8Array(width * height));
  const covered = new Uint8Array(width * height);
  const dalles: StackFixture['dalles'] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const name = `D-${c}-${r}`;
      if (missing.includes(name)) continue;
      const dallePlanes = Array.from({ length: 5 }, () => new Uint8Array(w * h));
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const mx = c * w + x, my = r * h + y;
          covered[my * width + mx] = 1;
          for (let b = 0; b < 5; b++) {
            const v = pixel(b, mx, my);
            dallePlanes[b]![y * w + x] = v;
            planes[b]![my * width + mx] = v;
          }
        }
      }
      await writeGeoTiff(join(dir, `${name}.tif`), {
        width: w, height: h, bands: 5, tileSize: 128, epsg: 2154,
        geoTransform: [ORIGIN[0] + c * w * RES, RES, 0, ORIGIN[1] - r * h * RES, 0, -RES],
      }, dallePlanes);
      dalles.push({ name, x: c * w, y: r * h, width: w, height: h });
    }
  }
  return { dir, width, height, planes, covered, dalles };
}
