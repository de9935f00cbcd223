/**
 * GDAL-style affine geotransform: [originX, pixelWidth, rowRotation, originY, colRotation, pixelHeight].
 * North-up rasters have both rotations 0 and a negative pixelHeight. Coordinates refer to the
 * top-left corner of the top-left pixel (GDAL's PixelIsArea convention).
 */
export type GeoTransform = readonly [number, number, number, number, number, number];

/** A rectangle in the pixel space of one raster or of the mosaic, half-open on the right/bottom. */
export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Geographic X/Y of a pixel corner (x, y in pixels, may be fractional). */
export function pixelToGeo(gt: GeoTransform, x: number, y: number): [number, number] {
  return [gt[0] + x * gt[1] + y * gt[2], gt[3] + x * gt[4] + y * gt[5]];
}

/** The geotransform of a sub-raster starting at pixel (x, y) of a raster with transform `gt`. */
export function offsetGeoTransform(gt: GeoTransform, x: number, y: number): GeoTransform {
  const [gx, gy] = pixelToGeo(gt, x, y);
  return [gx, gt[1], gt[2], gy, gt[4], gt[5]];
}

export function intersectRects(a: PixelRect, b: PixelRect): PixelRect | undefined {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
