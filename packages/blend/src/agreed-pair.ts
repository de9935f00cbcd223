import type { WindowContribution } from './blend-accumulator';
import type { SpanRect } from './coverage-cells';

/**
 * BlendAccumulator's agreedPixels for two windows of at most two ranks (the edges two windows
 * share at k = 2), with the state in locals: the generic loop over the windows and their row
 * spans was half of the blend at the shipped defaults (1024/256, k = 2: `node --cpu-prof` of
 * `merge-rss.js merge 8192 --top-k 2`, BENCHMARKS.md "Merger speed", "k = 2 at the defaults").
 * The same rules, for cell row `y`: where both windows have data, vote for one class c, score c
 * with rank 0 and give rank 1 no more than that (and a known class), c is the class if either
 * term for it is > 0 (float32), since no other class can score more and on a tie the fallback
 * is c too; where neither has data the pixel is nodata. Those pixels are written to `out` and
 * marked in `decided`; returns how many are left for blendDisputedPair (unknown ids among them:
 * it throws).
 */
export function agreedPair(
  cell: SpanRect,
  a: WindowContribution,
  b: WindowContribution,
  y: number,
  classIndex: Int16Array,
  out: Uint8Array,
  dst: number,
  decided: Uint8Array,
): number {
  const { arg: argA, probs: probsA, ids: idsA, second: secondA, secondIds: secondIdsA, wx: wxA, x: xA, row: rowA, wy: wyA } = windowRow(a, cell, y);
  const { arg: argB, probs: probsB, ids: idsB, second: secondB, secondIds: secondIdsB, wx: wxB, x: xB, row: rowB, wy: wyB } = windowRow(b, cell, y);
  const length = cell.x1 - cell.x0;
  let left = 0;
  for (let x = 0; x < length; x++) {
    const c = argA[rowA + x]!;
    const cB = argB[rowB + x]!;
    if (c === 0 && cB === 0) {
      out[dst + x] = 0;
      decided[x] = 1;
      continue;
    }
    const iA = rowA + x;
    const iB = rowB + x;
    const pA = probsA[iA]!;
    const qA = secondA[iA]!;
    const pB = probsB[iB]!;
    const qB = secondB[iB]!;
    if (
      c === 0 || cB !== c || classIndex[c]! < 0 ||
      pA === 0 || idsA[iA] !== c || qA > pA || (qA !== 0 && classIndex[secondIdsA[iA]!]! < 0) ||
      pB === 0 || idsB[iB] !== c || qB > pB || (qB !== 0 && classIndex[secondIdsB[iB]!]! < 0)
    ) {
      decided[x] = 0;
      left++;
      continue;
    }
    if (Math.fround(wyA * wxA[xA + x]! * pA) > 0 || Math.fround(wyB * wxB[xB + x]! * pB) > 0) {
      out[dst + x] = c;
      decided[x] = 1;
    } else {
      decided[x] = 0;
      left++;
    }
  }
  return left;
}

/**
 * One window's arrays for cell row `y`, as the agreed-pixel loops read them (agreedPair here,
 * BlendAccumulator's agreedFour): pixel x of the cell row is `row + x` in the window's planes
 * and `x + x0` in its column weights `wx`; `wy` is the row's weight. A window of one rank gets
 * a second rank that is 0 everywhere, which never objects.
 */
export interface WindowRow {
  arg: Uint8Array;
  probs: Uint8Array;
  ids: Uint8Array;
  second: Uint8Array;
  secondIds: Uint8Array;
  wx: Float32Array;
  /** The cell's first column in the window (index into `wx`). */
  x: number;
  /** The cell row's first pixel in the window's planes. */
  row: number;
  wy: number;
}

export function windowRow(win: WindowContribution, cell: SpanRect, y: number): WindowRow {
  const second = win.softProbs[1] ?? zeros(win.argmax.length);
  const x = cell.x0 - win.offsetX;
  return {
    arg: win.argmax,
    probs: win.softProbs[0]!,
    ids: win.softIds[0]!,
    second,
    secondIds: win.softIds[1] ?? second,
    wx: win.weightsX,
    x,
    row: (y - win.offsetY) * win.width + x,
    wy: win.weightsY[y - win.offsetY]!,
  };
}

/** Zeros for a window's missing second rank, shared: never written (a new plane per row cost ~1 MB of garbage). */
let zeroPlane = new Uint8Array(0);
export function zeros(length: number): Uint8Array {
  if (zeroPlane.length < length) zeroPlane = new Uint8Array(length);
  return zeroPlane;
}
