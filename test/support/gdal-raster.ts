/**
 * GeoTIFFs the project's own writer cannot make (it writes uint8 only, with no alpha or mask):
 * float/int16 DSM/DTM surfaces, RGBA with an alpha band, GDAL internal masks, COG layout.
 * Written by GDAL itself (python3-gdal, /usr/bin/python3), so they are what IGN's tools and
 * QGIS produce, not what this project believes a TIFF to be.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface GdalRasterOptions {
  width: number;
  height: number;
  geoTransform: readonly number[];
  /** 0: no CRS at all. */
  epsg: number;
  /** GDAL data type name: Byte, UInt16, Int16, Float32, Float64. */
  type: string;
  noData?: number;
  /** The last band is written as an alpha band (ExtraSamples = unassociated alpha). */
  alpha?: boolean;
  /** A per-dataset internal mask (NewSubfileType=4): 1 = data, 0 = no data; width*height. */
  mask?: Uint8Array;
  /** Cloud-optimised layout (COG driver: IFDs first, tiles after, overviews). */
  cog?: boolean;
  /** Tile size (default 64). */
  tile?: number;
  /** 'band': PlanarConfiguration=2, one block per band (GTiff only); default pixel-interleaved. */
  interleave?: 'pixel' | 'band';
}

const SCRIPT = `
import json, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
gdal.SetConfigOption('GDAL_TIFF_INTERNAL_MASK', 'YES')
o = json.load(open(sys.argv[1]))
raw = np.fromfile(sys.argv[2], dtype='<f8').reshape(o['bands'], o['height'], o['width'])
mem = gdal.GetDriverByName('MEM').Create('', o['width'], o['height'], o['bands'], gdal.GetDataTypeByName(o['type']))
mem.SetGeoTransform(o['geoTransform'])
if o['epsg']: mem.SetProjection('EPSG:%d' % o['epsg'])
for b in range(o['bands']):
    band = mem.GetRasterBand(b + 1)
    band.WriteArray(raw[b])
    if o.get('noData') is not None: band.SetNoDataValue(o['noData'])
if o.get('alpha'): mem.GetRasterBand(o['bands']).SetColorInterpretation(gdal.GCI_AlphaBand)
if o.get('mask'):
    m = np.fromfile(sys.argv[3], dtype=np.uint8).reshape(o['height'], o['width'])
    mem.CreateMaskBand(gdal.GMF_PER_DATASET)
    mem.GetRasterBand(1).GetMaskBand().WriteArray(m * 255)
tile = str(o.get('tile', 64))
if o.get('cog'):
    opts = ['COMPRESS=DEFLATE', 'BLOCKSIZE=' + tile]
    gdal.GetDriverByName('COG').CreateCopy(o['path'], mem, options=opts)
else:
    opts = ['TILED=YES', 'BLOCKXSIZE=' + tile, 'BLOCKYSIZE=' + tile, 'COMPRESS=DEFLATE']
    if o.get('alpha'): opts.append('ALPHA=YES')
    if o.get('interleave') == 'band': opts.append('INTERLEAVE=BAND')
    gdal.GetDriverByName('GTiff').CreateCopy(o['path'], mem, options=opts)
`;

/** Writes band-separate planes (any numeric values) as a GeoTIFF through GDAL. */
export function writeGdalRaster(path: string, options: GdalRasterOptions, planes: ArrayLike<number>[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const n = options.width * options.height;
  const raw = new Float64Array(planes.length * n);
  planes.forEach((p, b) => {
    if (p.length !== n) throw new RangeError(`${path}: plane ${b} has ${p.length} values, expected ${n}`);
    raw.set(Array.from(p), b * n);
  });
  const base = `${path}.gdal-input`;
  writeFileSync(`${base}.json`, JSON.stringify({ ...options, mask: options.mask !== undefined, bands: planes.length, path }));
  writeFileSync(`${base}.f64`, Buffer.from(raw.buffer));
  if (options.mask) writeFileSync(`${base}.mask`, options.mask);
  writeFileSync(`${base}.py`, SCRIPT);
  try {
    execFileSync('/usr/bin/python3', [`${base}.py`, `${base}.json`, `${base}.f64`, `${base}.mask`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    for (const ext of ['json', 'f64', 'mask', 'py']) rmSync(`${base}.${ext}`, { force: true });
  }
}
