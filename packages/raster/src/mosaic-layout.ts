import type { GeoTransform } from '@fleet/grid';
import { RasterError } from './raster-error';
import type { RasterHeader } from './geotiff-reader';
import { PRIMARY_ROLES, SOURCE_ROLES, type SourceRoleName } from './source-roles';

export interface ScannedFile {
  /** Key within the source's store. */
  key: string;
  header: RasterHeader;
  /** The store's version tag of the file (S3 ETag, or inode/size/mtime locally): new imagery, new run. */
  etag?: string;
}

export interface ScannedSource {
  role: SourceRoleName;
  location: string;
  files: ScannedFile[];
}

export interface LaidOutDalle {
  uri: string;
  x: number;
  y: number;
  width: number;
  height: number;
  bands: number;
  noData?: number;
}

export interface MosaicLayout {
  width: number;
  height: number;
  geoTransform: GeoTransform;
  epsg: number;
  sources: Array<{ role: SourceRoleName; location: string; dalles: LaidOutDalle[] }>;
}

/** Lambert-93; EPSG:9794 (RGF93 v2b / Lambert-93) is the same projection under a newer datum name. */
const LAMBERT93 = new Set([2154, 9794]);
const sameCrs = (a: number, b: number) => a === b || (LAMBERT93.has(a) && LAMBERT93.has(b));

/**
 * Places every file of every source on one pixel grid: the bounding box of the primary
 * source (stack or rgb) at its pixel size. Files must share the CRS and pixel size and sit on
 * whole-pixel offsets; each problem is reported naming the file. Pure: headers in, layout out.
 */
export function layOutMosaic(sources: readonly ScannedSource[]): MosaicLayout {
  const primary = sources.find((s) => PRIMARY_ROLES.includes(s.role));
  if (!primary) throw new Error('no --stack or --rgb source: the run needs one to define its footprint');
  if (primary.files.length === 0) throw new Error(`no GeoTIFF found in ${primary.location}`);
  const ref = primary.files[0]!.header;
  const [, resX, rotA, , rotB, resY] = ref.geoTransform;
  if (rotA !== 0 || rotB !== 0 || resX <= 0 || resY >= 0) {
    throw new RasterError(ref.name, 'only north-up rasters are supported (rotated geotransform)');
  }
  if (ref.epsg === undefined) throw new RasterError(ref.name, 'no EPSG code in its GeoKeys');
  const epsg = ref.epsg;

  for (const source of sources) {
    const role = SOURCE_ROLES[source.role];
    if (source.files.length === 0) throw new Error(`no GeoTIFF found in ${source.location} (--${source.role})`);
    for (const { header } of source.files) {
      if (header.epsg === undefined || !sameCrs(header.epsg, epsg)) {
        throw new RasterError(header.name, `CRS EPSG:${header.epsg ?? 'unknown'} differs from EPSG:${epsg} of ${ref.name}`);
      }
      const gt = header.geoTransform;
      if (!close(gt[1], resX) || !close(gt[5], resY) || gt[2] !== 0 || gt[4] !== 0) {
        throw new RasterError(header.name, `pixel size ${gt[1]} x ${-gt[5]} differs from ${resX} x ${-resY} of ${ref.name}`);
      }
      if (header.bandCount < role.minBands) {
        throw new RasterError(header.name, `has ${header.bandCount} band(s); a --${source.role} source needs ${role.minBands}`);
      }
    }
  }

  let minX = Infinity, maxY = -Infinity, maxX = -Infinity, minY = Infinity;
  for (const { header } of primary.files) {
    const gt = header.geoTransform;
    minX = Math.min(minX, gt[0]);
    maxY = Math.max(maxY, gt[3]);
    maxX = Math.max(maxX, gt[0] + header.width * gt[1]);
    minY = Math.min(minY, gt[3] + header.height * gt[5]);
  }
  const width = Math.round((maxX - minX) / resX);
  const height = Math.round((minY - maxY) / resY);
  const geoTransform: GeoTransform = [minX, resX, 0, maxY, 0, resY];

  const laidOut = sources.map((source) => ({
    role: source.role,
    location: source.location,
    dalles: source.files.map(({ key, header }) => {
      const fx = (header.geoTransform[0] - minX) / resX;
      const fy = (header.geoTransform[3] - maxY) / resY;
      // `|| 0` turns the -0 of 0 / negative pixel height into 0
      const x = Math.round(fx) || 0;
      const y = Math.round(fy) || 0;
      if (Math.abs(fx - x) > 1e-3 || Math.abs(fy - y) > 1e-3) {
        throw new RasterError(header.name, `not aligned to the mosaic grid (offset ${fx.toFixed(3)}, ${fy.toFixed(3)} px is not whole)`);
      }
      const dalle: LaidOutDalle = { uri: key, x, y, width: header.width, height: header.height, bands: header.bandCount };
      if (header.noData !== undefined) dalle.noData = header.noData;
      return dalle;
    }),
  }));
  return { width, height, geoTransform, epsg, sources: laidOut };
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
