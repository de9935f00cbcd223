import type { MaskTile } from './mask-tile';

/**
 * The soft pixels of a tile (outside its exclusive core) as spans contiguous in a width*height
 * plane, in raster order: `[from0, length0, from1, length1, ...]`. The right-hand run of one core
 * row and the left-hand run of the next lie side by side in the plane (and in the body), so a
 * tile has one span per gap between core rows, core height + 1 at most, against two runs a row
 * in forEachSoftRun: decodeMaskTile copies each soft plane span by span, and the ~3 times as many
 * copies (each a subarray and a set) were most of its time outside brotli (issue 13, `node
 * --cpu-prof` of `merge-rss.js merge 8192 --patch 1024 --overlap 256 --top-k 2`). Same pixels in
 * the same order as forEachSoftRun (the soft-spans test compares them).
 */
export function softSpans(tile: Pick<MaskTile, 'width' | 'height' | 'core'>): Int32Array {
  const { width, height, core } = tile;
  const n = width * height;
  if (core.width === 0 || core.height === 0) return n === 0 ? new Int32Array(0) : Int32Array.of(0, n);
  const spans: number[] = [];
  let from = 0;
  for (let y = core.y; y < core.y + core.height; y++) {
    const coreStart = y * width + core.x;
    if (coreStart > from) spans.push(from, coreStart - from);
    from = coreStart + core.width;
  }
  if (n > from) spans.push(from, n - from);
  return Int32Array.from(spans);
}
