import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeGeoTiff } from '../../packages/raster/src';

/**
 * A small BD ORTHO-like dalle: a 3-band uint8 GeoTIFF in Lambert-93 written by the project's
 * own writer, turned into lossless JPEG 2000 by GDAL's JP2OpenJPEG driver (as IGN ships them).
 * `seed` changes every pixel, so a rewritten dalle is visibly different.
 */
export async function writeJp2Dalle(path: string, options: { x: number; y: number; size?: number; seed?: number }): Promise<void> {
  const size = options.size ?? 256;
  const seed = options.seed ?? 0;
  const planes = Array.from({ length: 3 }, (_, b) => {
    const plane = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = 128 + 60 * Math.sin((x + 13 * b + seed) / (19 + 4 * b)) + 50 * Math.cos((y - 7 * b) / (29 + 2 * b + seed));
        plane[y * size + x] = Math.max(0, Math.min(255, Math.round(v + (((x * 7919) ^ (y * 104729) ^ (seed * 31)) & 7))));
      }
    }
    return plane;
  });
  mkdirSync(dirname(path), { recursive: true });
  const tif = `${path}.source.tif`;
  await writeGeoTiff(tif, { width: size, height: size, bands: 3, photometric: 'rgb', epsg: 2154, geoTransform: [options.x, 0.2, 0, options.y, 0, -0.2] }, planes);
  try {
    execFileSync('gdal_translate', ['-q', '-of', 'JP2OpenJPEG', '-co', 'QUALITY=100', '-co', 'REVERSIBLE=YES', tif, path]);
  } finally {
    rmSync(tif, { force: true });
    rmSync(`${tif}.aux.xml`, { force: true });
  }
}

/** What gdalinfo says about a file: size, geotransform, EPSG, layout and metadata. */
export function gdalInfo(path: string): { size: [number, number]; geoTransform: number[]; epsg: string | undefined; layout: string | undefined; metadata: Record<string, string>; bands: number } {
  const info = JSON.parse(execFileSync('gdalinfo', ['-json', path], { encoding: 'utf8' })) as {
    size: [number, number];
    geoTransform: number[];
    coordinateSystem?: { wkt?: string };
    metadata?: Record<string, Record<string, string>>;
    bands: unknown[];
  };
  const epsg = /ID\["EPSG",(\d+)\]\]$/.exec(info.coordinateSystem?.wkt?.replace(/\s/g, '') ?? '')?.[1];
  return {
    size: info.size,
    geoTransform: info.geoTransform,
    epsg,
    layout: info.metadata?.IMAGE_STRUCTURE?.LAYOUT,
    metadata: info.metadata?.[''] ?? {},
    bands: info.bands.length,
  };
}

/** Number of pixels (over all bands) that differ between two rasters GDAL decodes, read by python3-gdal. */
export function differingPixels(a: string, b: string): number {
  const script = [
    'import sys',
    'from osgeo import gdal',
    'gdal.UseExceptions()',
    'x = gdal.Open(sys.argv[1]).ReadAsArray()',
    'y = gdal.Open(sys.argv[2]).ReadAsArray()',
    'print(int((x != y).sum()) if x.shape == y.shape else -1)',
  ].join('\n');
  return Number(execFileSync('/usr/bin/python3', ['-c', script, a, b], { encoding: 'utf8' }).trim());
}
