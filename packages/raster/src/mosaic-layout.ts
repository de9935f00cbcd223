import type { GeoTransform } from '@fleet/grid';
import type { MaskInfo } from './mask-ifds';
import { surfaceGridOn, type SurfaceGrid } from './elevation-band';
import { RasterError } from './raster-error';
import type { RasterHeader } from './geotiff-reader';
import { PRIMARY_ROLES, SOURCE_ROLES, type SourceRoleName } from './source-roles';

export interface ScannedFile {
  /** Key within the source's store. */
  key: string;
  header: RasterHeader;
  /** The store's version tag of the file (S3 ETag, or inode/size/mtime locally): new imagery, new run. */
  etag?: string;
  /** Alpha band and internal mask, when the file has them. */
  masks?: MaskInfo;
}

export interface ScannedSource {
  role: SourceRoleName;
  location: string;
  files: ScannedFile[];
}

export interface LaidOutDalle {
  uri: string;
  /** Position and size in mosaic pixels; for a DSM/DTM, in the pixels of its own `grid`. */
  x: number;
  y: number;
  width: number;
  height: number;
  bands: number;
  noData?: number;
  /** 0-based alpha band: 0 there is no data. */
  alphaBand?: number;
  /** Image index of the file's internal (GDAL per-dataset) mask. */
  maskImage?: number;
  /** DSM/DTM only: where the source's own pixel grid lies on the mosaic grid. */
  grid?: SurfaceGrid;
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

/**
 * Places every file of every source on one pixel grid: the bounding box of the primary
 * source (stack or rgb) at its pixel size. Image files must be in Lambert-93, share the pixel
 * size and sit on whole-pixel offsets, with the band count and uint8 type of their role; a
 * DSM/DTM may have its own pixel size and origin (it is resampled) but must be numeric, one
 * band, in Lambert-93, and overlap the footprint. Dalles of a secondary source outside the
 * footprint are left out: the run covers the primary source. Each problem is reported naming
 * the file. Pure: headers in, layout out.
 */
export function layOutMosaic(sources: readonly ScannedSource[]): MosaicLayout {
  const primary = sources.find((s) => PRIMARY_ROLES.includes(s.role));
  if (!primary) throw new Error('no --stack or --rgb source: the run needs one to define its footprint');
  for (const source of sources) {
    if (source.files.length === 0) throw new Error(`no GeoTIFF found in ${source.location} (--${source.role})`);
    for (const file of source.files) checkFile(source.role, file);
  }
  const ref = primary.files[0]!.header;
  const [, resX, , , , resY] = ref.geoTransform;
  const epsg = ref.epsg!;

  for (const source of sources) {
    if (!SOURCE_ROLES[source.role].onMosaicGrid) continue;
    for (const { header } of source.files) {
      const gt = header.geoTransform;
      if (!close(gt[1], resX) || !close(gt[5], resY)) {
        throw new RasterError(header.name, `pixel size ${gt[1]} x ${-gt[5]} differs from ${resX} x ${-resY} of ${ref.name}`);
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
  const footprint = { minX, maxX, minY, maxY };

  const laidOut = sources.map((source) => ({
    role: source.role,
    location: source.location,
    dalles: SOURCE_ROLES[source.role].onMosaicGrid
      ? layOutOnGrid(source, geoTransform, width, height)
      : layOutSurface(source, geoTransform, footprint),
  }));
  return { width, height, geoTransform, epsg, sources: laidOut };
}

/** What a file must be whatever its place: north-up, Lambert-93, bands of the role's count and type. */
function checkFile(role: SourceRoleName, { header, masks }: ScannedFile): void {
  const spec = SOURCE_ROLES[role];
  const [, resX, rotA, , rotB, resY] = header.geoTransform;
  if (rotA !== 0 || rotB !== 0 || !(resX > 0) || !(resY < 0)) {
    throw new RasterError(header.name, 'only north-up rasters are supported (rotated or flipped geotransform)');
  }
  if (header.epsg === undefined) throw new RasterError(header.name, 'no EPSG code in its GeoKeys: the CRS is unknown, Lambert-93 (EPSG:2154) is required');
  if (!LAMBERT93.has(header.epsg)) {
    throw new RasterError(header.name, `CRS EPSG:${header.epsg} is not Lambert-93 (EPSG:2154, or EPSG:9794): reproject it first (gdalwarp -t_srs EPSG:2154)`);
  }
  const n = header.bandCount;
  const plain = spec.minBands === spec.maxBands ? `${spec.minBands}` : `${spec.minBands}, or ${spec.maxBands} when the last is an alpha band`;
  if (n < spec.minBands || n > spec.maxBands) {
    throw new RasterError(header.name, `has ${n} band(s); a --${role} source needs ${plain}`);
  }
  if (n > spec.minBands && masks?.alphaBand !== n - 1) {
    throw new RasterError(header.name, `has ${n} bands and band ${n} is not an alpha band (ExtraSamples); a --${role} source needs ${plain}`);
  }
  for (let b = 0; b < n; b++) {
    const bits = header.bitsPerSample[b];
    const format = header.sampleFormat[b];
    if (spec.sample === 'uint8' && (bits !== 8 || format !== 1)) {
      const hint = role === 'elevation' ? ' (use --dsm/--dtm for heights in metres)' : '';
      throw new RasterError(header.name, `band ${b + 1} is ${typeName(bits, format)}; a --${role} source needs uint8 bands${hint}`);
    }
    if (spec.sample === 'numeric' && !(format === 1 || format === 2 || format === 3)) {
      throw new RasterError(header.name, `band ${b + 1} has sample format ${format}; a --${role} source needs integer or floating-point heights`);
    }
  }
}

function layOutOnGrid(source: ScannedSource, mosaic: GeoTransform, width: number, height: number): LaidOutDalle[] {
  const [minX, resX, , maxY, , resY] = mosaic;
  const dalles: LaidOutDalle[] = [];
  for (const file of source.files) {
    const { key, header } = file;
    const fx = (header.geoTransform[0] - minX) / resX;
    const fy = (header.geoTransform[3] - maxY) / resY;
    // `|| 0` turns the -0 of 0 / negative pixel height into 0
    const x = Math.round(fx) || 0;
    const y = Math.round(fy) || 0;
    if (Math.abs(fx - x) > 1e-3 || Math.abs(fy - y) > 1e-3) {
      throw new RasterError(header.name, `not aligned to the mosaic grid (offset ${fx.toFixed(3)}, ${fy.toFixed(3)} px is not whole)`);
    }
    // a secondary source may hold dalles beyond the primary footprint (a wider delivery): unused
    if (x >= width || y >= height || x + header.width <= 0 || y + header.height <= 0) continue;
    if (x < 0 || y < 0) {
      throw new RasterError(header.name, `starts ${-Math.min(x, 0)} x ${-Math.min(y, 0)} px before the footprint of the --rgb/--stack source and overlaps it: dalles must share the primary dalle grid`);
    }
    dalles.push(withMasks({ uri: key, x, y, width: header.width, height: header.height, bands: header.bandCount }, file));
  }
  if (dalles.length === 0) throw new Error(`no dalle of ${source.location} (--${source.role}) overlaps the footprint of the --rgb/--stack source`);
  return dalles;
}

/**
 * A DSM/DTM keeps its own grid: the dalles are placed in its pixels (they must be aligned to
 * each other) and the grid itself on the mosaic grid, for resampling.
 */
function layOutSurface(source: ScannedSource, mosaic: GeoTransform, fp: { minX: number; maxX: number; minY: number; maxY: number }): LaidOutDalle[] {
  const ref = source.files[0]!.header;
  const [, sx, , , , sy] = ref.geoTransform;
  const used = source.files.filter(({ header: h }) => {
    const gt = h.geoTransform;
    if (!close(gt[1], sx) || !close(gt[5], sy)) {
      throw new RasterError(h.name, `pixel size ${gt[1]} x ${-gt[5]} differs from ${sx} x ${-sy} of ${ref.name} (--${source.role} dalles must share one grid)`);
    }
    const x0 = gt[0], x1 = gt[0] + h.width * gt[1], y0 = gt[3] + h.height * gt[5], y1 = gt[3];
    return x1 > fp.minX && x0 < fp.maxX && y1 > fp.minY && y0 < fp.maxY;
  });
  if (used.length === 0) {
    throw new Error(`${source.location} (--${source.role}) covers none of the image footprint [${fp.minX}, ${fp.minY}, ${fp.maxX}, ${fp.maxY}] (Lambert-93 metres)`);
  }
  const originX = Math.min(...used.map((f) => f.header.geoTransform[0]));
  const originY = Math.max(...used.map((f) => f.header.geoTransform[3]));
  const grid = surfaceGridOn(mosaic, [originX, sx, 0, originY, 0, sy]);
  return used.map((file) => {
    const { key, header } = file;
    const fx = (header.geoTransform[0] - originX) / sx;
    const fy = (header.geoTransform[3] - originY) / sy;
    const x = Math.round(fx) || 0;
    const y = Math.round(fy) || 0;
    if (Math.abs(fx - x) > 1e-3 || Math.abs(fy - y) > 1e-3) {
      throw new RasterError(header.name, `not aligned to the grid of the other --${source.role} dalles (offset ${fx.toFixed(3)}, ${fy.toFixed(3)} px is not whole)`);
    }
    return withMasks({ uri: key, x, y, width: header.width, height: header.height, bands: header.bandCount, grid }, file);
  });
}

function withMasks(dalle: LaidOutDalle, { header, masks }: ScannedFile): LaidOutDalle {
  // a NaN nodata (float surfaces) cannot travel in JSON; NaN samples are no data anyway
  if (header.noData !== undefined && Number.isFinite(header.noData)) dalle.noData = header.noData;
  if (masks?.alphaBand !== undefined) dalle.alphaBand = masks.alphaBand;
  if (masks?.maskImage !== undefined) dalle.maskImage = masks.maskImage;
  return dalle;
}

function typeName(bits: number | undefined, format: number | undefined): string {
  const kind = format === 3 ? 'float' : format === 2 ? 'int' : 'uint';
  return `${kind}${bits ?? '?'}`;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
