/** A half-open rectangle of region pixels: x0 <= x < x1, y0 <= y < y1. */
export interface SpanRect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** A rectangle of the region whose every pixel the same windows cover. */
export interface CoverageCell extends SpanRect {
  /** Indices (into the rectangles given) of the windows covering the cell, in the order given. */
  readonly windows: readonly number[];
}

/**
 * Cuts a width x height region into rectangles of constant coverage, along every edge of the
 * windows' rectangles (clipped to the region): each pixel lies in exactly one cell, and a
 * cell knows which windows cover it. A merged tile has a few dozen cells (a 512 px tile under
 * 512 px windows with 128 px overlap: about 7 x 7), so the blend can decide per cell, not per
 * pixel and window, where one window alone decides (its argmax, copied) and where several
 * must be blended. Pure geometry: empty rectangles cover nothing.
 */
export function coverageCells(width: number, height: number, rects: readonly SpanRect[]): CoverageCell[] {
  const clipped = rects.map((r) => ({ x0: Math.max(0, r.x0), y0: Math.max(0, r.y0), x1: Math.min(width, r.x1), y1: Math.min(height, r.y1) }));
  const present = clipped.filter((r) => r.x1 > r.x0 && r.y1 > r.y0);
  const xs = edges(width, present.flatMap((r) => [r.x0, r.x1]));
  const ys = edges(height, present.flatMap((r) => [r.y0, r.y1]));
  const cells: CoverageCell[] = [];
  for (let j = 0; j + 1 < ys.length; j++) {
    const y0 = ys[j]!;
    const y1 = ys[j + 1]!;
    for (let i = 0; i + 1 < xs.length; i++) {
      const x0 = xs[i]!;
      const x1 = xs[i + 1]!;
      const windows: number[] = [];
      clipped.forEach((r, index) => {
        // cells never straddle an edge, so covering one pixel of the cell is covering all of it
        if (r.x0 <= x0 && r.x1 >= x1 && r.y0 <= y0 && r.y1 >= y1 && r.x1 > r.x0 && r.y1 > r.y0) windows.push(index);
      });
      cells.push({ x0, y0, x1, y1, windows });
    }
  }
  return cells;
}

/** 0, size and every cut strictly between them, sorted, once each. */
function edges(size: number, cuts: readonly number[]): number[] {
  const inside = cuts.filter((c) => c > 0 && c < size);
  return [...new Set([0, size, ...inside])].sort((a, b) => a - b).filter((c, i, all) => i === 0 || c > all[i - 1]!);
}
