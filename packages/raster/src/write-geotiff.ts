import { GeoTiffWriter } from './geotiff-writer';
import type { GeoTiffWriteOptions } from './geotiff-write-options';

// Enough tiles in flight to keep a few zlib threads busy without holding many tile copies.
const TILES_IN_FLIGHT = 4;

/**
 * Writes a whole in-memory raster, given as band-separate planes of width*height bytes,
 * as a tiled GeoTIFF (see GeoTiffWriter). On failure nothing is left at `path`.
 */
export async function writeGeoTiff(path: string, options: GeoTiffWriteOptions, planes: Uint8Array[]): Promise<void> {
  if (planes.length !== options.bands) {
    throw new RangeError(`${path}: ${planes.length} planes given for ${options.bands} bands`);
  }
  planes.forEach((plane, b) => {
    if (plane.length !== options.width * options.height) {
      throw new RangeError(`${path}: plane ${b} has ${plane.length} bytes, expected ${options.width}x${options.height}`);
    }
  });
  const writer = await GeoTiffWriter.create(path, options);
  const tileSize = options.tileSize ?? 512;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for (let ty = 0; ty < writer.tilesDown && !failure; ty++) {
      for (let tx = 0; tx < writer.tilesAcross && !failure; tx++) {
        const tile = extractTile(planes, options.width, options.height, tileSize, tx, ty);
        // Never rejects, so a failure while others are in flight is not an unhandled rejection.
        const p: Promise<void> = writer.writeTile(tx, ty, tile).then(
          () => void inFlight.delete(p),
          (error: unknown) => {
            inFlight.delete(p);
            failure ??= { error };
          },
        );
        inFlight.add(p);
        if (inFlight.size >= TILES_IN_FLIGHT) await Promise.race(inFlight);
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** One tile, pixel-interleaved, zero past the raster edge. */
function extractTile(
  planes: Uint8Array[],
  width: number,
  height: number,
  tileSize: number,
  tx: number,
  ty: number,
): Uint8Array {
  const bands = planes.length;
  const out = new Uint8Array(tileSize * tileSize * bands);
  const x0 = tx * tileSize;
  const y0 = ty * tileSize;
  const cols = Math.min(tileSize, width - x0);
  const rows = Math.min(tileSize, height - y0);
  for (let r = 0; r < rows; r++) {
    const src = (y0 + r) * width + x0;
    const dst = r * tileSize * bands;
    if (bands === 1) {
      out.set(planes[0]!.subarray(src, src + cols), dst);
      continue;
    }
    for (let b = 0; b < bands; b++) {
      const plane = planes[b]!;
      for (let c = 0; c < cols; c++) out[dst + c * bands + b] = plane[src + c]!;
    }
  }
  return out;
}
