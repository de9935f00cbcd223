import type { GeoTransform, PixelRect } from '@fleet/grid';

/**
 * Pure maths for the E band computed from a DSM and a DTM: bilinear resampling of a surface
 * onto the image grid, and E = clip(round((DSM - DTM) * 5), 0, 255). No I/O.
 *
 * Decisions (documented in the README):
 * - Samples are taken at image pixel centres; a surface pixel's value sits at its centre.
 * - A sample is no data (NaN) when any surface pixel with a non-zero bilinear weight is no
 *   data or lies outside the surface: nothing is extrapolated. Where the DSM or the DTM is
 *   no data, E is invalid and the pixel becomes nodata (0) in the output map, like any other
 *   pixel without data.
 * - round() is half up (Math.round) on the double-precision difference; values below 0
 *   (DTM above DSM, noise) clip to 0, above 51 m to 255.
 */

/** Where a surface's pixel grid lies on the image (mosaic) grid, in image pixels. */
export interface SurfaceGrid {
  /** Image-pixel coordinates of the top-left corner of surface pixel (0, 0). */
  x: number;
  y: number;
  /** Size of one surface pixel in image pixels (5 for a 1 m DTM under a 0.2 m image). */
  stepX: number;
  stepY: number;
}

/** The surface grid of a north-up raster with geotransform `surface`, on the image grid `image`. */
export function surfaceGridOn(image: GeoTransform, surface: GeoTransform): SurfaceGrid {
  // `+ 0` turns the -0 of 0 / negative pixel height into 0
  return {
    x: (surface[0] - image[0]) / image[1] + 0,
    y: (surface[3] - image[3]) / image[5] + 0,
    stepX: surface[1] / image[1],
    stepY: surface[5] / image[5],
  };
}

/** Continuous surface coordinate of image pixel `p`'s centre; integers are surface pixel centres. */
function toSurface(p: number, origin: number, step: number): number {
  return (p + 0.5 - origin) / step - 0.5;
}

/**
 * The surface pixels that bilinear sampling of `window` reads (it may reach outside the
 * surface: those pixels count as no data).
 */
export function surfaceRectFor(window: PixelRect, grid: SurfaceGrid): PixelRect {
  const u0 = Math.floor(toSurface(window.x, grid.x, grid.stepX));
  const u1 = Math.floor(toSurface(window.x + window.width - 1, grid.x, grid.stepX)) + 1;
  const v0 = Math.floor(toSurface(window.y, grid.y, grid.stepY));
  const v1 = Math.floor(toSurface(window.y + window.height - 1, grid.y, grid.stepY)) + 1;
  return { x: u0, y: v0, width: u1 - u0 + 1, height: v1 - v0 + 1 };
}

/** For each output position along one axis: the first source index and the weight of the next one. */
function axisWeights(start: number, count: number, origin: number, step: number, srcStart: number): { i0: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(count);
  const w1 = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const u = toSurface(start + k, origin, step);
    const f = Math.floor(u);
    i0[k] = f - srcStart;
    w1[k] = u - f;
  }
  return { i0, w1 };
}

/**
 * Bilinear samples of a surface at the centres of `window`'s image pixels. `src` holds the
 * surface pixels of `rect` (as surfaceRectFor gives), NaN where there is no data.
 */
export function bilinearAtPixelCentres(src: Float32Array, rect: PixelRect, grid: SurfaceGrid, window: PixelRect): Float32Array {
  if (src.length !== rect.width * rect.height) throw new RangeError(`surface samples: ${src.length} values for a ${rect.width}x${rect.height} rect`);
  const cols = axisWeights(window.x, window.width, grid.x, grid.stepX, rect.x);
  const rows = axisWeights(window.y, window.height, grid.y, grid.stepY, rect.y);
  const out = new Float32Array(window.width * window.height);
  // outside `rect` reads as no data (only possible when rect is not surfaceRectFor's)
  const at = (c: number, r: number) => (c >= 0 && r >= 0 && c < rect.width && r < rect.height ? src[r * rect.width + c]! : Number.NaN);
  for (let y = 0; y < window.height; y++) {
    const r0 = rows.i0[y]!;
    const wy = rows.w1[y]!;
    for (let x = 0; x < window.width; x++) {
      const c0 = cols.i0[x]!;
      const wx = cols.w1[x]!;
      // a neighbour with zero weight does not count, so a surface on the image grid is read
      // exactly; written out (not looped over a weight table) as it runs for every image pixel
      const w00 = (1 - wx) * (1 - wy), w10 = wx * (1 - wy), w01 = (1 - wx) * wy, w11 = wx * wy;
      const v00 = w00 === 0 ? 0 : at(c0, r0);
      const v10 = w10 === 0 ? 0 : at(c0 + 1, r0);
      const v01 = w01 === 0 ? 0 : at(c0, r0 + 1);
      const v11 = w11 === 0 ? 0 : at(c0 + 1, r0 + 1);
      // NaN propagates through the sum: any weighted neighbour without data makes the sample NaN
      const sum = w00 * v00 + w10 * v10 + w01 * v01 + w11 * v11;
      out[y * window.width + x] = sum;
    }
  }
  return out;
}

/** E = clip(round((dsm - dtm) * 5), 0, 255), one step = 20 cm; `valid` is 0 where either input is NaN. */
export function elevationFromSurfaces(dsm: Float32Array, dtm: Float32Array): { e: Uint8Array; valid: Uint8Array } {
  if (dsm.length !== dtm.length) throw new RangeError(`DSM has ${dsm.length} samples, DTM ${dtm.length}`);
  const e = new Uint8Array(dsm.length);
  const valid = new Uint8Array(dsm.length);
  for (let i = 0; i < dsm.length; i++) {
    const height = dsm[i]! - dtm[i]!;
    if (Number.isNaN(height)) continue;
    valid[i] = 1;
    e[i] = Math.min(255, Math.max(0, Math.round(height * 5)));
  }
  return { e, valid };
}

/** Surface values equal to the file's nodata value (or NaN, or +-Infinity) become NaN, in place. */
export function markSurfaceNoData(values: Float32Array, noData: number | undefined): Float32Array {
  // the file's nodata is compared after the same float32 rounding the samples went through
  const nd = noData === undefined ? undefined : Math.fround(noData);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v === nd) values[i] = Number.NaN;
  }
  return values;
}
