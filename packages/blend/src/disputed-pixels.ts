import { windowRow } from './agreed-pair';
import type { WindowContribution } from './blend-accumulator';
import { decide, unknownClass } from './class-decision';
import type { SpanRect } from './coverage-cells';

/** The classes one pixel has scores for: at most four windows x two ranks. */
const MAX_SCORES = 8;

/**
 * One pixel's votes while its windows are taken in order: how many voted, the highest-weight
 * voter's class and weight (as float32), and the scores of the classes met (class index, float32
 * sum: each store into `scores` rounds the sum, as the row passes' float32 buffers do). Reused
 * from pixel to pixel; the blend measured level with a first version that kept these in the
 * loop's locals (BENCHMARKS.md "Disputed pixels in locals").
 */
export class PixelVotes {
  votes = 0;
  best = 0;
  bestWeight = 0;
  n = 0;
  readonly classes = new Int16Array(MAX_SCORES);
  readonly scores = new Float32Array(MAX_SCORES);

  constructor(private readonly classIndex: Int16Array, private readonly classIds: readonly number[]) {}

  reset(): void {
    this.votes = 0;
    this.best = 0;
    this.bestWeight = 0;
    this.n = 0;
  }

  /**
   * A window with data at the pixel (argmax `c`, weight `w` as a double) votes: its rank-0
   * probability `p` for class `id`, its rank-1 `q` for `qId` (0 where it has one rank).
   */
  vote(c: number, w: number, p: number, id: number, q: number, qId: number): void {
    if (this.votes === 0) {
      this.bestWeight = w > 0 ? Math.fround(w) : 0;
      this.best = w > 0 ? c : 0;
    } else if (w > this.bestWeight) {
      // compared unrounded against the float32 copy, as it always was
      this.bestWeight = Math.fround(w);
      this.best = c;
    }
    this.votes++;
    if (p !== 0) this.add(id, w * p);
    if (q !== 0) this.add(qId, w * q);
  }

  /** The pixel's class: nodata without votes, the voter's class for one, else `decide`. */
  result(): number {
    const { best, classIndex, classIds } = this;
    return this.votes < 2 ? best : decide(this.classes, this.scores, 0, this.n, best, classIndex[best]!, classIds, classIds.length);
  }

  private add(id: number, amount: number): void {
    const ci = this.classIndex[id]!;
    if (ci < 0) throw unknownClass(id);
    const { classes, scores, n } = this;
    for (let t = 0; t < n; t++) {
      if (classes[t] === ci) {
        scores[t] = scores[t]! + amount;
        return;
      }
    }
    classes[n] = ci;
    scores[n] = amount;
    this.n = n + 1;
  }
}

/**
 * The pixels of cell row `y` that agreedPair left (`decided[x] === 0`: the windows disagree
 * there, or a shortcut's condition failed) for two windows of at most two ranks, pixel by
 * pixel with the state in PixelVotes. They went through the row passes (firstVotes,
 * laterVotes, rankScores: one pass per window and rank over per-pixel row buffers), ~60 % of
 * the blend where neighbours disagree on a tenth of their soft pixels (`node --cpu-prof` of
 * `merge-rss.js merge 12288 --top-k 2 --weighting gaussian --disagree 10`, BENCHMARKS.md
 * "Merger speed"). The same rules in the same order: window a then b, rank 0 then 1, each
 * score a float32 sum of the double weight x probability, the highest-weight voter (its weight
 * compared against its float32 copy) the fallback, and the decision by the row passes' own
 * `decide` (class-decision.ts). Checked against the former accumulator by blend-equivalence.test.ts.
 */
export function blendDisputedPair(cell: SpanRect, a: WindowContribution, b: WindowContribution, y: number, out: Uint8Array, dst: number, decided: Uint8Array, pixel: PixelVotes): void {
  const { arg: argA, probs: probsA, ids: idsA, second: secondA, secondIds: secondIdsA, wx: wxA, x: xA, row: rowA, wy: wyA } = windowRow(a, cell, y);
  const { arg: argB, probs: probsB, ids: idsB, second: secondB, secondIds: secondIdsB, wx: wxB, x: xB, row: rowB, wy: wyB } = windowRow(b, cell, y);
  const length = cell.x1 - cell.x0;
  for (let x = 0; x < length; x++) {
    if (decided[x] !== 0) continue;
    pixel.reset();
    const iA = rowA + x;
    const iB = rowB + x;
    const cA = argA[iA]!;
    const cB = argB[iB]!;
    if (cA !== 0) pixel.vote(cA, wyA * wxA[xA + x]!, probsA[iA]!, idsA[iA]!, secondA[iA]!, secondIdsA[iA]!);
    if (cB !== 0) pixel.vote(cB, wyB * wxB[xB + x]!, probsB[iB]!, idsB[iB]!, secondB[iB]!, secondIdsB[iB]!);
    out[dst + x] = pixel.result();
  }
}

/**
 * blendDisputedPair for four windows of at most two ranks (the corners they share), after
 * agreedFour. A loop over the windows held in arrays did the same work ~0.2 s slower per
 * 12,288 px block at 10 % disagreement (self time 533 ms against 348 + decide's share).
 */
export function blendDisputedFour(cell: SpanRect, wins: readonly WindowContribution[], y: number, out: Uint8Array, dst: number, decided: Uint8Array, pixel: PixelVotes): void {
  const { arg: argA, probs: probsA, ids: idsA, second: secondA, secondIds: secondIdsA, wx: wxA, x: xA, row: rowA, wy: wyA } = windowRow(wins[0]!, cell, y);
  const { arg: argB, probs: probsB, ids: idsB, second: secondB, secondIds: secondIdsB, wx: wxB, x: xB, row: rowB, wy: wyB } = windowRow(wins[1]!, cell, y);
  const { arg: argC, probs: probsC, ids: idsC, second: secondC, secondIds: secondIdsC, wx: wxC, x: xC, row: rowC, wy: wyC } = windowRow(wins[2]!, cell, y);
  const { arg: argD, probs: probsD, ids: idsD, second: secondD, secondIds: secondIdsD, wx: wxD, x: xD, row: rowD, wy: wyD } = windowRow(wins[3]!, cell, y);
  const length = cell.x1 - cell.x0;
  for (let x = 0; x < length; x++) {
    if (decided[x] !== 0) continue;
    pixel.reset();
    const iA = rowA + x;
    const iB = rowB + x;
    const iC = rowC + x;
    const iD = rowD + x;
    const cA = argA[iA]!;
    const cB = argB[iB]!;
    const cC = argC[iC]!;
    const cD = argD[iD]!;
    if (cA !== 0) pixel.vote(cA, wyA * wxA[xA + x]!, probsA[iA]!, idsA[iA]!, secondA[iA]!, secondIdsA[iA]!);
    if (cB !== 0) pixel.vote(cB, wyB * wxB[xB + x]!, probsB[iB]!, idsB[iB]!, secondB[iB]!, secondIdsB[iB]!);
    if (cC !== 0) pixel.vote(cC, wyC * wxC[xC + x]!, probsC[iC]!, idsC[iC]!, secondC[iC]!, secondIdsC[iC]!);
    if (cD !== 0) pixel.vote(cD, wyD * wxD[xD + x]!, probsD[iD]!, idsD[iD]!, secondD[iD]!, secondIdsD[iD]!);
    out[dst + x] = pixel.result();
  }
}
