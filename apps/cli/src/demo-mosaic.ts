import { generateLandscape } from '@fleet/demo-data';
import { writeGeoTiff } from '@fleet/raster';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoMosaic {
  rgb: string;
  irc: string;
  elevation: string;
  truth: Uint8Array;
  width: number;
  height: number;
  dalle: number;
}

/** Top-left corner of the demo mosaic in Lambert-93 (Hauts-de-Seine), 20 cm pixels. */
const ORIGIN_X = 645_000;
const ORIGIN_Y = 6_865_000;
const RES = 0.2;

/**
 * A synthetic landscape written as BD ORTHO-like deliveries: separate RGB (R,G,B), IRC
 * (NIR,R,G) and elevation (E) GeoTIFF dalles on one Lambert-93 grid, named by their
 * top-left corner like IGN's files.
 */
export async function writeDemoMosaic(dir: string, dalles: number, dallePx: number, seed: number): Promise<DemoMosaic> {
  const size = dalles * dallePx;
  const { planes, truth } = generateLandscape({ width: size, height: size, seed });
  const paths = { rgb: join(dir, 'rgb'), irc: join(dir, 'irc'), elevation: join(dir, 'elevation') };
  await Promise.all(Object.values(paths).map((p) => mkdir(p, { recursive: true })));
  for (let r = 0; r < dalles; r++) {
    for (let c = 0; c < dalles; c++) {
      const x = ORIGIN_X + c * dallePx * RES;
      const y = ORIGIN_Y - r * dallePx * RES;
      const name = `DEMO-2024-${String(x).padStart(7, '0')}-${String(y)}-LA93-0M20.tif`;
      const crop = (plane: Uint8Array) => {
        const out = new Uint8Array(dallePx * dallePx);
        for (let row = 0; row < dallePx; row++) {
          const from = (r * dallePx + row) * size + c * dallePx;
          out.set(plane.subarray(from, from + dallePx), row * dallePx);
        }
        return out;
      };
      const base = { width: dallePx, height: dallePx, tileSize: 256, geoTransform: [x, RES, 0, y, 0, -RES] as const, epsg: 2154 };
      await writeGeoTiff(join(paths.rgb, name), { ...base, bands: 3, photometric: 'rgb' }, [crop(planes.R), crop(planes.G), crop(planes.B)]);
      await writeGeoTiff(join(paths.irc, name), { ...base, bands: 3 }, [crop(planes.NIR), crop(planes.R), crop(planes.G)]);
      await writeGeoTiff(join(paths.elevation, name), { ...base, bands: 1 }, [crop(planes.E)]);
    }
  }
  return { ...paths, truth, width: size, height: size, dalle: dallePx };
}
