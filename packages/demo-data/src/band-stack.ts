import { FLAIR_INC_BANDS, type ModelManifest } from '@fleet/model';
import type { BandPlanes } from './landscape';

/** Band-separate planes `[bands][pixels]` in manifest order: the layout the engine and `inferWholeImage` take. */
export function stackBands(planes: BandPlanes, bands: ModelManifest['bands'] = FLAIR_INC_BANDS): Uint8Array {
  const first = planes[bands[0]!];
  const out = new Uint8Array(bands.length * first.length);
  bands.forEach((name, i) => out.set(planes[name], i * first.length));
  return out;
}

/**
 * One `size` x `size` engine input `[bands][size][size]` cut from planes of width `width`, with its
 * top-left at (x0, y0); pixels outside the image read 0, like IGN's boundless reads.
 */
export function cutPatch(
  planes: BandPlanes,
  width: number,
  height: number,
  x0: number,
  y0: number,
  size: number,
  bands: ModelManifest['bands'] = FLAIR_INC_BANDS,
): Uint8Array {
  const out = new Uint8Array(bands.length * size * size);
  bands.forEach((name, b) => {
    const plane = planes[name];
    for (let y = 0; y < size; y++) {
      const sy = y0 + y;
      if (sy < 0 || sy >= height) continue;
      const xa = Math.max(0, x0);
      const xb = Math.min(width, x0 + size);
      if (xb <= xa) continue;
      out.set(plane.subarray(sy * width + xa, sy * width + xb), b * size * size + y * size + (xa - x0));
    }
  });
  return out;
}
