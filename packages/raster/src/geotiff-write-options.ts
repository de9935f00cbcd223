import type { GeoTransform } from '@fleet/grid';
import { type ColorMap, validateColorMap } from './color-map';

export interface GeoTiffWriteOptions {
  /** Raster width in pixels. */
  width: number;
  /** Raster height in pixels. */
  height: number;
  /** uint8 samples per pixel (1..n), stored pixel-interleaved (PlanarConfiguration=1). */
  bands: number;
  /** Tile width and height in pixels, a multiple of 16 (TIFF requirement). Default 512. */
  tileSize?: number;
  /** North-up geotransform (no rotation, negative pixel height). */
  geoTransform: GeoTransform;
  /** EPSG code of the CRS, e.g. 2154 (RGF93 v1 / Lambert-93). */
  epsg: number;
  /** NoData value (0..255), written as GDAL_NODATA. Default: none. */
  noData?: number;
  /** Colour table (single band only): the file becomes a palette image. Default: none. */
  colorMap?: ColorMap;
  /** Dataset-level GDAL metadata items (GDAL_METADATA). Default: none. */
  metadata?: Record<string, string>;
  /** One description per band (GDAL band DESCRIPTION). Default: none. */
  bandDescriptions?: string[];
  /**
   * How readers should show the bands. Default 'minisblack' ('palette' implied by colorMap).
   * 'rgb' needs exactly 3 bands; more bands are written minisblack with ExtraSamples.
   */
  photometric?: 'minisblack' | 'rgb';
  /** zlib level 0..9 for Deflate compression. Default 6. */
  deflateLevel?: number;
  /** BigTIFF: true, false, or 'auto' (when the uncompressed size exceeds 3.5 GiB). Default 'auto'. */
  bigTiff?: boolean | 'auto';
}

/** The options with defaults applied and every value checked. */
export interface ResolvedWriteOptions {
  width: number;
  height: number;
  bands: number;
  tileSize: number;
  geoTransform: GeoTransform;
  epsg: number;
  noData: number | undefined;
  colorMap: ColorMap | undefined;
  metadata: Record<string, string>;
  bandDescriptions: string[];
  photometric: 'minisblack' | 'rgb' | 'palette';
  deflateLevel: number;
  bigTiff: boolean;
}

// Classic TIFF offsets are 32-bit. Deflate rarely expands data by more than a fraction of a
// percent, so a raster under 3.5 GiB uncompressed stays well under 4 GiB compressed.
const AUTO_BIGTIFF_BYTES = 3.5 * 1024 ** 3;

export function resolveWriteOptions(o: GeoTiffWriteOptions): ResolvedWriteOptions {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('width', o.width);
  positiveInt('height', o.height);
  positiveInt('bands', o.bands);
  positiveInt('epsg', o.epsg);
  // GeoKeys are SHORT values; 32767 means "user-defined" and cannot name a CRS on its own.
  if (o.epsg >= 32767) throw new RangeError(`epsg must be below 32767 to fit a GeoKey, got ${o.epsg}`);
  const tileSize = o.tileSize ?? 512;
  if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize % 16 !== 0 || tileSize > 65520) {
    throw new RangeError(`tileSize must be a multiple of 16 between 16 and 65520, got ${tileSize}`);
  }
  const gt = o.geoTransform;
  if (gt.length !== 6 || !gt.every(Number.isFinite)) throw new RangeError(`geoTransform must be 6 finite numbers`);
  if (gt[2] !== 0 || gt[4] !== 0) {
    throw new RangeError(`geoTransform [${gt.join(', ')}] is rotated; only north-up rasters can be written`);
  }
  if (!(gt[1] > 0) || !(gt[5] < 0)) {
    throw new RangeError(
      `geoTransform [${gt.join(', ')}] is not north-up (needs positive pixel width and negative pixel height)`,
    );
  }
  if (o.noData !== undefined && !(Number.isInteger(o.noData) && o.noData >= 0 && o.noData <= 255)) {
    throw new RangeError(`noData must be an integer in 0..255 for uint8 bands, got ${o.noData}`);
  }
  if (o.colorMap) {
    if (o.bands !== 1) throw new RangeError(`colorMap needs a single band, got ${o.bands} bands`);
    if (o.photometric === 'rgb') throw new RangeError(`colorMap and photometric 'rgb' exclude each other`);
    validateColorMap(o.colorMap);
  }
  if (o.photometric === 'rgb' && o.bands !== 3) {
    throw new RangeError(`photometric 'rgb' needs exactly 3 bands, got ${o.bands}`);
  }
  const bandDescriptions = o.bandDescriptions ?? [];
  if (bandDescriptions.length > o.bands) {
    throw new RangeError(`${bandDescriptions.length} band descriptions for ${o.bands} bands`);
  }
  const deflateLevel = o.deflateLevel ?? 6;
  if (!Number.isInteger(deflateLevel) || deflateLevel < 0 || deflateLevel > 9) {
    throw new RangeError(`deflateLevel must be an integer in 0..9, got ${deflateLevel}`);
  }
  const bigTiffOption = o.bigTiff ?? 'auto';
  const bigTiff = bigTiffOption === 'auto' ? o.width * o.height * o.bands > AUTO_BIGTIFF_BYTES : bigTiffOption;
  return {
    width: o.width,
    height: o.height,
    bands: o.bands,
    tileSize,
    geoTransform: gt,
    epsg: o.epsg,
    noData: o.noData,
    colorMap: o.colorMap,
    metadata: o.metadata ?? {},
    bandDescriptions,
    photometric: o.colorMap ? 'palette' : (o.photometric ?? 'minisblack'),
    deflateLevel,
    bigTiff,
  };
}
