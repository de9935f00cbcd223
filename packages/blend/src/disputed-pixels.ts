import { windowRow } from './agreed-pair';
import type { WindowContribution } from './blend-accumulator';
import { decide, unknownClass } from './class-decision';
import type { SpanRect } from './coverage-cells';

/** The classes one pixel has scores for: at most four windows x two ranks. */
const MAX_SCORES = 8;

/**
 * The pixels of cell row `y` that agreedPair left (`decided[x] === 0`: the windows disagree
 * there, or a shortcut's condition failed) for two windows of at most two ranks, pixel by
 * pixel with the state in locals and a few score slots. They went through the row passes
 * (firstVotes, laterVotes, rankScores: one pass per window and rank over per-pixel row buffers),
 * ~60 % of the blend where neighbours disagree on a tenth of their soft pixels (`node --cpu-prof`
 * of `merge-rss.js merge 12288 --top-k 2 --weighting gaussian --disagree 10`, BENCHMARKS.md
 * "Merger speed"). The same rules in the same order: window a then b, rank 0 then 1, each score
 * a float32 sum of the double weight x probability, the highest-weight voter (its weight
 * compared against its float32 copy) the fallback, and the decision by the row passes' own
 * `decide` (class-decision.ts). Checked against the former accumulator by blend-equivalence.test.ts.
 */
export function blendDisputedPair(
  cell: SpanRect,
  a: WindowContribution,
  b: WindowContribution,
  y: number,
  classIndex: Int16Array,
  classIds: readonly number[],
  out: Uint8Array,
  dst: number,
  decided: Uint8Array,
  slots: ScoreSlots,
): void {
  const { arg: argA, probs: probsA, ids: idsA, second: secondA, secondIds: secondIdsA, wx: wxA, x: xA, row: rowA, wy: wyA } = windowRow(a, cell, y);
  const { arg: argB, probs: probsB, ids: idsB, second: secondB, secondIds: secondIdsB, wx: wxB, x: xB, row: rowB, wy: wyB } = windowRow(b, cell, y);
  const { classes, scores } = slots;
  const classCount = classIds.length;
  const length = cell.x1 - cell.x0;
  for (let x = 0; x < length; x++) {
    if (decided[x] !== 0) continue;
    const iA = rowA + x;
    const iB = rowB + x;
    const cA = argA[iA]!;
    const cB = argB[iB]!;
    let votes = 0;
    let best = 0;
    let bestWeight = 0;
    let n = 0;
    if (cA !== 0) {
      // a double, as it always was: compared unrounded, kept as float32
      const w = wyA * wxA[xA + x]!;
      votes = 1;
      bestWeight = w > 0 ? Math.fround(w) : 0;
      best = w > 0 ? cA : 0;
      n = addScore(classes, scores, n, probsA[iA]!, idsA[iA]!, w, classIndex);
      n = addScore(classes, scores, n, secondA[iA]!, secondIdsA[iA]!, w, classIndex);
    }
    if (cB !== 0) {
      const w = wyB * wxB[xB + x]!;
      if (votes === 0) {
        bestWeight = w > 0 ? Math.fround(w) : 0;
        best = w > 0 ? cB : 0;
      } else if (w > bestWeight) {
        bestWeight = Math.fround(w);
        best = cB;
      }
      votes++;
      n = addScore(classes, scores, n, probsB[iB]!, idsB[iB]!, w, classIndex);
      n = addScore(classes, scores, n, secondB[iB]!, secondIdsB[iB]!, w, classIndex);
    }
    out[dst + x] = votes < 2 ? best : decide(classes, scores, 0, n, best, classIndex[best]!, classIds, classCount);
  }
}

/**
 * blendDisputedPair for any number of windows (at most four) of at most two ranks: the corners
 * four windows share. The windows' rows are in arrays, looped over per pixel; for pairs that
 * loop cost ~0.8 s more per 25,000 px block than blendDisputedPair's locals (blend 9.8-9.9 s
 * against 9.1 s at 10 % disagreement), for fours it is what there is.
 */
export function blendDisputed(
  cell: SpanRect,
  wins: readonly WindowContribution[],
  y: number,
  classIndex: Int16Array,
  classIds: readonly number[],
  out: Uint8Array,
  dst: number,
  decided: Uint8Array,
  slots: ScoreSlots,
): void {
  const rows = wins.map((win) => windowRow(win, cell, y));
  const m = rows.length;
  const args = rows.map((r) => r.arg);
  const probs = rows.map((r) => r.probs);
  const ids = rows.map((r) => r.ids);
  const seconds = rows.map((r) => r.second);
  const secondIds = rows.map((r) => r.secondIds);
  const wxs = rows.map((r) => r.wx);
  const xs = rows.map((r) => r.x);
  const starts = rows.map((r) => r.row);
  const wys = rows.map((r) => r.wy);
  const { classes, scores } = slots;
  const classCount = classIds.length;
  const length = cell.x1 - cell.x0;
  for (let x = 0; x < length; x++) {
    if (decided[x] !== 0) continue;
    let votes = 0;
    let best = 0;
    let bestWeight = 0;
    let n = 0;
    for (let j = 0; j < m; j++) {
      const i = starts[j]! + x;
      const c = args[j]![i]!;
      if (c === 0) continue;
      // a double, as it always was: compared unrounded, kept as float32
      const w = wys[j]! * wxs[j]![xs[j]! + x]!;
      if (votes === 0) {
        bestWeight = w > 0 ? Math.fround(w) : 0;
        best = w > 0 ? c : 0;
      } else if (w > bestWeight) {
        bestWeight = Math.fround(w);
        best = c;
      }
      votes++;
      n = addScore(classes, scores, n, probs[j]![i]!, ids[j]![i]!, w, classIndex);
      n = addScore(classes, scores, n, seconds[j]![i]!, secondIds[j]![i]!, w, classIndex);
    }
    out[dst + x] = votes < 2 ? best : decide(classes, scores, 0, n, best, classIndex[best]!, classIds, classCount);
  }
}

/** Score slots (class index, score) for the disputed-pixel loops, reused from pixel to pixel. */
export interface ScoreSlots {
  readonly classes: Int16Array;
  /** float32: each store rounds the sum, as the row passes' float32 buffers do. */
  readonly scores: Float32Array;
}

export function scoreSlots(): ScoreSlots {
  return { classes: new Int16Array(MAX_SCORES), scores: new Float32Array(MAX_SCORES) };
}

/**
 * Adds weight x probability `p` to class `id`'s slot (a new slot for a class not met yet);
 * returns the slots in use. Nothing where `p` is 0.
 */
function addScore(classes: Int16Array, scores: Float32Array, n: number, p: number, id: number, w: number, classIndex: Int16Array): number {
  if (p === 0) return n;
  const ci = classIndex[id]!;
  if (ci < 0) throw unknownClass(id);
  const amount = w * p;
  for (let t = 0; t < n; t++) {
    if (classes[t] === ci) {
      scores[t] = scores[t]! + amount;
      return n;
    }
  }
  classes[n] = ci;
  scores[n] = amount;
  return n + 1;
}
