import type { GeoTransform } from '@fleet/grid';
import type { GeoTIFFImage } from 'geotiff';

const USER_DEFINED = 32767;
const RASTER_PIXEL_IS_POINT = 2;

/**
 * The GDAL-style geotransform of an image, from ModelTransformation or from
 * ModelTiepoint + ModelPixelScale; undefined when the file has neither.
 * PixelIsPoint rasters are shifted by half a pixel, as GDAL does, so the transform
 * always refers to pixel corners.
 */
export function readGeoTransform(image: GeoTIFFImage): GeoTransform | undefined {
  const dir = image.getFileDirectory();
  const transformation = dir.getValue('ModelTransformation') as ArrayLike<number> | undefined;
  const tiepoint = dir.getValue('ModelTiepoint') as ArrayLike<number> | undefined;
  const scale = dir.getValue('ModelPixelScale') as ArrayLike<number> | undefined;
  let gt: [number, number, number, number, number, number];
  if (transformation && transformation.length >= 16) {
    const m = transformation;
    gt = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
  } else if (tiepoint && tiepoint.length >= 6 && scale && scale.length >= 2) {
    const [i, j, , x, y] = [tiepoint[0]!, tiepoint[1]!, tiepoint[2]!, tiepoint[3]!, tiepoint[4]!];
    const sx = scale[0]!;
    const sy = scale[1]!;
    gt = [x - i * sx, sx, 0, y + j * sy, 0, -sy];
  } else {
    return undefined;
  }
  const keys = image.getGeoKeys();
  if (keys?.GTRasterTypeGeoKey === RASTER_PIXEL_IS_POINT) {
    gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
    gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
  }
  return gt;
}

/** EPSG code from ProjectedCSTypeGeoKey, else GeographicTypeGeoKey; undefined when user-defined or absent. */
export function readEpsg(image: GeoTIFFImage): number | undefined {
  const keys = image.getGeoKeys();
  for (const code of [keys?.ProjectedCSTypeGeoKey, keys?.GeographicTypeGeoKey]) {
    if (typeof code === 'number' && code > 0 && code !== USER_DEFINED) return code;
  }
  return undefined;
}

/** GDAL_NODATA (ASCII, often NUL-terminated), as a number; undefined when absent or empty. */
export function readNoData(image: GeoTIFFImage): number | undefined {
  const dir = image.getFileDirectory();
  if (!dir.hasTag('GDAL_NODATA')) return undefined;
  const raw = dir.getValue('GDAL_NODATA');
  const text = String(raw ?? '').replace(/\0+$/, '').trim();
  if (text === '') return undefined;
  if (/^[-+]?nan$/i.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}
