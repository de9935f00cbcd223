/**
 * The most frequent non-zero value of four class ids, 0 (nodata) only when all four are 0.
 * Ties go to the value met first in the order given (top-left, top-right, bottom-left,
 * bottom-right), so the result is deterministic and independent of class numbering.
 */
export function mode4(a: number, b: number, c: number, d: number): number {
  // Decided by equalities rather than by counting each value (overviews call this ~200 M
  // times a block): a value met twice can only be tied, never beaten, by a later one.
  if (a !== 0) {
    if (a === b || a === c || a === d) return a;
    // a is alone: a later value met twice or more beats it
    if (b !== 0 && (b === c || b === d)) return b;
    if (c !== 0 && c === d) return c;
    return a;
  }
  if (b !== 0) {
    if (b === c || b === d) return b;
    if (c !== 0 && c === d) return c;
    return b;
  }
  return c !== 0 ? c : d;
}

/**
 * Halves a strip of class ids (width x rows, row-major) in both directions with mode4 over
 * each 2x2 cell, for overviews of class maps, where averaging would invent classes. Cells
 * cut by an odd width or row count count the missing pixels as nodata.
 * Returns ceil(width/2) x ceil(rows/2) pixels.
 */
export function modeDownsample2x2(src: Uint8Array, width: number, rows: number): Uint8Array {
  if (src.length < width * rows) throw new RangeError(`strip has ${src.length} bytes, expected ${width}x${rows}`);
  const outWidth = Math.ceil(width / 2);
  const outRows = Math.ceil(rows / 2);
  const out = new Uint8Array(outWidth * outRows);
  for (let oy = 0; oy < outRows; oy++) {
    const top = 2 * oy * width;
    const hasBottom = 2 * oy + 1 < rows;
    const bottom = top + width;
    for (let ox = 0; ox < outWidth; ox++) {
      const x = 2 * ox;
      const hasRight = x + 1 < width;
      const a = src[top + x]!;
      const b = hasRight ? src[top + x + 1]! : 0;
      const c = hasBottom ? src[bottom + x]! : 0;
      const d = hasBottom && hasRight ? src[bottom + x + 1]! : 0;
      out[oy * outWidth + ox] = mode4(a, b, c, d);
    }
  }
  return out;
}
