import { agreedPair, windowRow } from './agreed-pair';
import { decide, unknownClass } from './class-decision';
import { coverageCells, type SpanRect } from './coverage-cells';
import { blendDisputedFour, blendDisputedPair, PixelVotes } from './disputed-pixels';

/** A window's contribution to one output region, as the accumulator needs it. */
export interface WindowContribution {
  /** Window size in pixels; plane arrays are width*height, row-major. */
  readonly width: number;
  readonly height: number;
  /** Exact argmax class ids of the window (0 = no data: the window does not vote there). */
  readonly argmax: Uint8Array;
  /** Ranked class ids and quantised probabilities, meaningful where probs > 0. */
  readonly softIds: readonly Uint8Array[];
  readonly softProbs: readonly Uint8Array[];
  /** Axis weights for this window's width and height (see axisWeights). */
  readonly weightsX: Float32Array;
  readonly weightsY: Float32Array;
  /** Position of the window's top-left pixel in region coordinates (may be negative). */
  readonly offsetX: number;
  readonly offsetY: number;
}

/**
 * Blends the windows that cover a region (one output tile) into class ids:
 * - no window with data: 0 (nodata);
 * - exactly one window: its exact argmax (inside its exclusive core this is the only case);
 * - several: argmax of sum(weight * probability) over the windows' top-k classes. Quantised
 *   probabilities can tie where the float ones did not; a tie is broken by the exact argmax
 *   of the highest-weight window, so a context-free model reproduces the whole-mosaic argmax.
 * Pure maths: no I/O, so it is tested on hand-made arrays.
 *
 * Built for speed (a merger blends ~600 Mpx per block). add() only records the window;
 * resolve() cuts the region into cells of constant coverage (coverage-cells.ts): where one
 * window alone covers a cell its argmax rows are copied, and elsewhere each pixel is decided
 * in one go over the windows covering it, its scores kept in a short list of the classes it
 * has met (at most windows x k) instead of a dense per-class vector per pixel. The arithmetic
 * is kept exactly as it always was (weights as doubles, each class's sum stored as float32
 * after every addition, windows in the order added, the highest weight compared against its
 * float32 copy), so the output bytes do not change (apps/merger/src/merge-block-bytes.test.ts,
 * and blend-equivalence.test.ts against the former pixel-by-pixel accumulator).
 */
export class BlendAccumulator {
  private w: number;
  private h: number;
  private n: number;
  private readonly capacity: number;
  private readonly classCount: number;
  private readonly classIndex = new Int16Array(256).fill(-1);
  /** The windows added since the last reset, in order. */
  private readonly windows: WindowContribution[] = [];
  /** blendCell's row buffers (see RowState), kept from tile to tile. */
  private row: RowState | undefined;
  /** The disputed-pixel loops' state (disputed-pixels.ts). */
  private readonly pixelVotes: PixelVotes;

  /**
   * `classIds`: the FLAIR ids that can occur, e.g. the model's enabled classes. `capacity`:
   * the most pixels a region will have after reset() (default width * height).
   */
  constructor(width: number, height: number, private readonly classIds: readonly number[], capacity = width * height) {
    if (width * height > capacity) throw new RangeError(`region ${width}x${height} exceeds the capacity of ${capacity} pixels`);
    this.w = width;
    this.h = height;
    this.n = width * height;
    this.capacity = capacity;
    this.classCount = classIds.length;
    classIds.forEach((id, i) => (this.classIndex[id] = i));
    this.pixelVotes = new PixelVotes(this.classIndex, classIds);
  }

  get width(): number {
    return this.w;
  }

  get height(): number {
    return this.h;
  }

  /** Empties the accumulator for a new region of width x height (within the capacity). */
  reset(width: number, height: number): void {
    if (width * height > this.capacity) throw new RangeError(`region ${width}x${height} exceeds the capacity of ${this.capacity} pixels`);
    this.w = width;
    this.h = height;
    this.n = width * height;
    this.windows.length = 0;
  }

  /**
   * Records a window for the region; its arrays are read by resolve(), so they must not change
   * before. A soft class id the model does not have is reported by resolve().
   */
  add(win: WindowContribution): void {
    if (this.windows.length > 0xffff) throw new RangeError(`more than ${0xffff + 1} windows added to one region`);
    this.windows.push(win);
  }

  /**
   * Class ids per region pixel (0 = no data), row-major, into `out` (or a new array). Throws a
   * RangeError naming the id where a window gives a probability to a class the model does not
   * have (at a pixel of the region where that window has data).
   */
  resolve(out: Uint8Array = new Uint8Array(this.n)): Uint8Array {
    if (out.length < this.n) throw new RangeError(`output holds ${out.length} pixels, the region ${this.n}`);
    const rects = this.windows.map((win) => ({ x0: win.offsetX, y0: win.offsetY, x1: win.offsetX + win.width, y1: win.offsetY + win.height }));
    for (const cell of coverageCells(this.w, this.h, rects)) {
      const count = cell.windows.length;
      if (count === 0) {
        for (let y = cell.y0; y < cell.y1; y++) out.fill(0, y * this.w + cell.x0, y * this.w + cell.x1);
      } else if (count === 1) {
        this.copySole(cell, this.windows[cell.windows[0]!]!, out);
      } else {
        const wins = cell.windows.map((i) => this.windows[i]!);
        const oneRank = wins.every((win) => win.softProbs.length === 1);
        if (oneRank && wins.length === 2) this.blendPair(cell, wins[0]!, wins[1]!, out);
        else if (oneRank && wins.length <= 4) this.blendFour(cell, wins, out);
        else this.blendCell(cell, wins, out);
      }
    }
    return out;
  }

  /** A cell one window alone covers: its argmax where its weight is > 0 (always, for the weightings we have), else 0. */
  private copySole(cell: SpanRect, win: WindowContribution, out: Uint8Array): void {
    const { argmax, weightsX, weightsY, offsetX, offsetY } = win;
    const length = cell.x1 - cell.x0;
    const sx0 = cell.x0 - offsetX;
    let columnsWeigh = true;
    for (let x = sx0; x < sx0 + length; x++) if (!(weightsX[x]! > 0)) columnsWeigh = false;
    for (let y = cell.y0; y < cell.y1; y++) {
      const wy = y - offsetY;
      const src = wy * win.width + sx0;
      const dst = y * this.w + cell.x0;
      this.checkSoftIds(win, src, length);
      const weightY = weightsY[wy]!;
      if (columnsWeigh && weightY > 0) {
        out.set(argmax.subarray(src, src + length), dst);
      } else {
        for (let i = 0; i < length; i++) out[dst + i] = weightY * weightsX[sx0 + i]! > 0 ? argmax[src + i]! : 0;
      }
    }
  }

  /** Throws if a pixel with data among `length` from `src` gives a probability to an unknown class. */
  private checkSoftIds(win: WindowContribution, src: number, length: number): void {
    const { classIndex } = this;
    const { argmax } = win;
    for (let r = 0; r < win.softProbs.length; r++) {
      const probs = win.softProbs[r]!;
      const ids = win.softIds[r]!;
      for (let i = src; i < src + length; i++) {
        if (probs[i] !== 0 && argmax[i] !== 0 && classIndex[ids[i]!]! < 0) throw unknownClass(ids[i]!);
      }
    }
  }

  /**
   * A cell several windows cover. Every pixel's voters are the windows with data there, in the
   * order added. One voter: its class (if its weight is > 0). Several: each class's score is the
   * float32 sum of weight * probability, added in window then rank order; the highest score
   * wins, the lowest class index among equals; on a tie the highest-weight voter's class wins
   * if its score is the top one. Worked a row at a time and a window at a time (the loops stay
   * on one window's arrays), each pixel's state in row buffers: that order of additions is the
   * same per pixel as taking the windows pixel by pixel. Pairs and fours of at most two ranks
   * (every cell of k = 2 runs) take the agreement shortcuts first, and the pixels those leave are
   * decided one at a time in locals (disputed-pixels.ts); the row passes serve the other cells.
   */
  private blendCell(cell: SpanRect, wins: readonly WindowContribution[], out: Uint8Array): void {
    const length = cell.x1 - cell.x0;
    const ranks = wins.reduce((sum, win) => sum + win.softProbs.length, 0);
    const row = this.rowState(length, ranks);
    const { voters, bestClass, touched, touchedClass, touchedScore, decided } = row;
    const { classIndex, classIds, classCount } = this;
    // pairs and fours: a generic loop over four windows cost more per pixel (34 ms a 512/256 tile) than
    // the row passes it saves (26 ms, microbenchmark), so four have their own, agreedFour
    const ranked = (wins.length === 2 || wins.length === 4) && wins.every((win) => win.softProbs.length <= 2);
    for (let y = cell.y0; y < cell.y1; y++) {
      const dst = y * this.w + cell.x0;
      if (ranked) {
        const disputed = wins.length === 4 ? this.agreedFour(cell, wins, y, out, dst, decided) : agreedPair(cell, wins[0]!, wins[1]!, y, classIndex, out, dst, decided);
        if (disputed === 0) continue;
        // the pixels the shortcuts left, each decided in one go (disputed-pixels.ts)
        if (wins.length === 2) blendDisputedPair(cell, wins[0]!, wins[1]!, y, out, dst, decided, this.pixelVotes);
        else blendDisputedFour(cell, wins, y, out, dst, decided, this.pixelVotes);
        continue;
      }
      const spans = wins.map((win): RowSpan => {
        const wy = y - win.offsetY;
        // window pixel of the row's first one, and its column
        return { src0: wy * win.width + cell.x0 - win.offsetX, wx0: cell.x0 - win.offsetX, weightY: win.weightsY[wy]!, length };
      });
      wins.forEach((win, j) => {
        const span = spans[j]!;
        if (j === 0) this.firstVotes(row, win, span);
        else this.laterVotes(row, win, span, win.softProbs[0], win.softIds[0]);
        for (let r = 1; r < win.softProbs.length; r++) this.rankScores(row, win, span, win.softProbs[r]!, win.softIds[r]!);
      });
      for (let x = 0; x < length; x++) {
        const votes = voters[x]!;
        const fallback = votes === 0 ? 0 : bestClass[x]!; // bestClass is set by a pixel's first voter only
        out[dst + x] = votes < 2 ? fallback : decide(touchedClass, touchedScore, x * ranks, touched[x]!, fallback, classIndex[fallback]!, classIds, classCount);
      }
    }
  }

  /**
   * blendCell for the commonest case, two windows with one rank each (the edges shared by two
   * windows; k = 1), pixel by pixel with the state in locals: the same rules, spelt out for at
   * most two scores.
   */
  private blendPair(cell: SpanRect, a: WindowContribution, b: WindowContribution, out: Uint8Array): void {
    const { classIndex, classIds, classCount } = this;
    const argA = a.argmax;
    const argB = b.argmax;
    const probsA = a.softProbs[0]!;
    const probsB = b.softProbs[0]!;
    const idsA = a.softIds[0]!;
    const idsB = b.softIds[0]!;
    const wxA = a.weightsX;
    const wxB = b.weightsX;
    const length = cell.x1 - cell.x0;
    const xA = cell.x0 - a.offsetX;
    const xB = cell.x0 - b.offsetX;
    // every class at 0: the first leads, tied with the others; a fallback with a class wins then
    const allZero = (fallback: number): number => (classCount > 1 && classIndex[fallback]! >= 0 ? fallback : classIds[0]!);
    for (let y = cell.y0; y < cell.y1; y++) {
      const rowA = (y - a.offsetY) * a.width + xA;
      const rowB = (y - b.offsetY) * b.width + xB;
      const wyA = a.weightsY[y - a.offsetY]!;
      const wyB = b.weightsY[y - b.offsetY]!;
      const dst = y * this.w + cell.x0;
      for (let x = 0; x < length; x++) {
        const ca = argA[rowA + x]!;
        const cb = argB[rowB + x]!;
        if (ca === cb && ca !== 0) {
          // both windows agree and score their class (the usual case): it wins if its score is > 0
          const pa = probsA[rowA + x]!;
          const pb = probsB[rowB + x]!;
          if (pa !== 0 && pb !== 0 && idsA[rowA + x] === ca && idsB[rowB + x] === ca && classIndex[ca]! >= 0) {
            const score = Math.fround(Math.fround(wyA * wxA[xA + x]! * pa) + wyB * wxB[xB + x]! * pb);
            if (score > 0) {
              out[dst + x] = ca;
              continue;
            }
          }
        }
        // a double, as it always was: compared unrounded, kept as float32
        const wa = ca === 0 ? 0 : wyA * wxA[xA + x]!;
        const wb = cb === 0 ? 0 : wyB * wxB[xB + x]!;
        const pa = ca === 0 ? 0 : probsA[rowA + x]!;
        const pb = cb === 0 ? 0 : probsB[rowB + x]!;
        const ia = pa === 0 ? -1 : classIndex[idsA[rowA + x]!]!;
        const ib = pb === 0 ? -1 : classIndex[idsB[rowB + x]!]!;
        if (pa !== 0 && ia < 0) throw unknownClass(idsA[rowA + x]!);
        if (pb !== 0 && ib < 0) throw unknownClass(idsB[rowB + x]!);
        if (ca === 0 || cb === 0) {
          // one voter or none: its class where it weighs
          out[dst + x] = ca !== 0 ? (wa > 0 ? ca : 0) : cb !== 0 ? (wb > 0 ? cb : 0) : 0;
          continue;
        }
        const fallback = wb > (wa > 0 ? Math.fround(wa) : 0) ? cb : wa > 0 ? ca : 0;
        if (pa === 0 && pb === 0) {
          out[dst + x] = allZero(fallback);
          continue;
        }
        if (pb === 0 || (pa !== 0 && ia === ib)) {
          // one class scored
          const ci = pb === 0 ? ia : ib;
          const score = pb === 0 ? Math.fround(wa * pa) : Math.fround(Math.fround(wa * pa) + wb * pb);
          out[dst + x] = score > 0 ? classIds[ci]! : allZero(fallback);
          continue;
        }
        if (pa === 0) {
          const score = Math.fround(wb * pb);
          out[dst + x] = score > 0 ? classIds[ib]! : allZero(fallback);
          continue;
        }
        // two classes scored
        const sa = Math.fround(wa * pa);
        const sb = Math.fround(wb * pb);
        if (sa > sb) out[dst + x] = classIds[ia]!;
        else if (sb > sa) out[dst + x] = classIds[ib]!;
        else if (sa === 0) out[dst + x] = allZero(fallback);
        else {
          const fi = classIndex[fallback]!;
          out[dst + x] = fi >= 0 && (fi === ia || fi === ib) ? fallback : classIds[Math.min(ia, ib)]!;
        }
      }
    }
  }

  /**
   * blendCell for three or four windows with one rank each (the corners, k = 1; every pixel
   * with 512 px windows and 256 px overlap), pixel by pixel with the state in locals: at most
   * four scores, kept as (class index, float32 sum) pairs k0/s0 .. k3/s3 in the order met.
   * Three windows get a fourth that never votes (no data anywhere).
   */
  private blendFour(cell: SpanRect, wins: readonly WindowContribution[], out: Uint8Array): void {
    const { classIndex, classIds, classCount } = this;
    const four = wins.length === 4 ? wins : [...wins, ...Array.from({ length: 4 - wins.length }, () => noVotes(cell))];
    const { argmax: argA, weightsX: wxA, weightsY: wysA, offsetX: oxA, offsetY: oyA, width: widthA } = four[0]!;
    const probsA = four[0]!.softProbs[0]!;
    const idsA = four[0]!.softIds[0]!;
    const xA = cell.x0 - oxA;
    const { argmax: argB, weightsX: wxB, weightsY: wysB, offsetX: oxB, offsetY: oyB, width: widthB } = four[1]!;
    const probsB = four[1]!.softProbs[0]!;
    const idsB = four[1]!.softIds[0]!;
    const xB = cell.x0 - oxB;
    const { argmax: argC, weightsX: wxC, weightsY: wysC, offsetX: oxC, offsetY: oyC, width: widthC } = four[2]!;
    const probsC = four[2]!.softProbs[0]!;
    const idsC = four[2]!.softIds[0]!;
    const xC = cell.x0 - oxC;
    const { argmax: argD, weightsX: wxD, weightsY: wysD, offsetX: oxD, offsetY: oyD, width: widthD } = four[3]!;
    const probsD = four[3]!.softProbs[0]!;
    const idsD = four[3]!.softIds[0]!;
    const xD = cell.x0 - oxD;
    const length = cell.x1 - cell.x0;
    for (let y = cell.y0; y < cell.y1; y++) {
      const rowA = (y - oyA) * widthA + xA;
      const wyA = wysA[y - oyA]!;
      const rowB = (y - oyB) * widthB + xB;
      const wyB = wysB[y - oyB]!;
      const rowC = (y - oyC) * widthC + xC;
      const wyC = wysC[y - oyC]!;
      const rowD = (y - oyD) * widthD + xD;
      const wyD = wysD[y - oyD]!;
      const dst = y * this.w + cell.x0;
      for (let x = 0; x < length; x++) {
        const cA = argA[rowA + x]!;
        const cB = argB[rowB + x]!;
        const cC = argC[rowC + x]!;
        const cD = argD[rowD + x]!;
        if (cA !== 0 && cA === cB && cA === cC && cA === cD) {
          // all four agree and score their class (the usual case): it wins if its score is > 0
          const pA = probsA[rowA + x]!;
          const pB = probsB[rowB + x]!;
          const pC = probsC[rowC + x]!;
          const pD = probsD[rowD + x]!;
          if (pA !== 0 && pB !== 0 && pC !== 0 && pD !== 0 && idsA[rowA + x] === cA && idsB[rowB + x] === cA && idsC[rowC + x] === cA && idsD[rowD + x] === cA && classIndex[cA]! >= 0) {
            let score = Math.fround(wyA * wxA[xA + x]! * pA);
            score = Math.fround(score + wyB * wxB[xB + x]! * pB);
            score = Math.fround(score + wyC * wxC[xC + x]! * pC);
            score = Math.fround(score + wyD * wxD[xD + x]! * pD);
            if (score > 0) {
              out[dst + x] = cA;
              continue;
            }
          }
        }
        let votes = 0;
        let bestWeight = 0;
        let best = 0;
        let n = 0;
        let k0 = 0, k1 = 0, k2 = 0, k3 = 0;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (cA !== 0) {
          // a double, as it always was: compared unrounded, kept as float32
          const w = wyA * wxA[xA + x]!;
          if (votes === 0) {
            bestWeight = w > 0 ? Math.fround(w) : 0;
            best = w > 0 ? cA : 0;
          } else if (w > bestWeight) {
            bestWeight = Math.fround(w);
            best = cA;
          }
          votes++;
          const p = probsA[rowA + x]!;
          if (p !== 0) {
            const id = idsA[rowA + x]!;
            const ci = classIndex[id]!;
            if (ci < 0) throw unknownClass(id);
            const amount = w * p;
            if (n > 0 && k0 === ci) s0 = Math.fround(s0 + amount);
            else if (n > 1 && k1 === ci) s1 = Math.fround(s1 + amount);
            else if (n > 2 && k2 === ci) s2 = Math.fround(s2 + amount);
            else if (n === 0) { k0 = ci; s0 = Math.fround(amount); n = 1; }
            else if (n === 1) { k1 = ci; s1 = Math.fround(amount); n = 2; }
            else if (n === 2) { k2 = ci; s2 = Math.fround(amount); n = 3; }
            else { k3 = ci; s3 = Math.fround(amount); n = 4; }
          }
        }
        if (cB !== 0) {
          // a double, as it always was: compared unrounded, kept as float32
          const w = wyB * wxB[xB + x]!;
          if (votes === 0) {
            bestWeight = w > 0 ? Math.fround(w) : 0;
            best = w > 0 ? cB : 0;
          } else if (w > bestWeight) {
            bestWeight = Math.fround(w);
            best = cB;
          }
          votes++;
          const p = probsB[rowB + x]!;
          if (p !== 0) {
            const id = idsB[rowB + x]!;
            const ci = classIndex[id]!;
            if (ci < 0) throw unknownClass(id);
            const amount = w * p;
            if (n > 0 && k0 === ci) s0 = Math.fround(s0 + amount);
            else if (n > 1 && k1 === ci) s1 = Math.fround(s1 + amount);
            else if (n > 2 && k2 === ci) s2 = Math.fround(s2 + amount);
            else if (n === 0) { k0 = ci; s0 = Math.fround(amount); n = 1; }
            else if (n === 1) { k1 = ci; s1 = Math.fround(amount); n = 2; }
            else if (n === 2) { k2 = ci; s2 = Math.fround(amount); n = 3; }
            else { k3 = ci; s3 = Math.fround(amount); n = 4; }
          }
        }
        if (cC !== 0) {
          // a double, as it always was: compared unrounded, kept as float32
          const w = wyC * wxC[xC + x]!;
          if (votes === 0) {
            bestWeight = w > 0 ? Math.fround(w) : 0;
            best = w > 0 ? cC : 0;
          } else if (w > bestWeight) {
            bestWeight = Math.fround(w);
            best = cC;
          }
          votes++;
          const p = probsC[rowC + x]!;
          if (p !== 0) {
            const id = idsC[rowC + x]!;
            const ci = classIndex[id]!;
            if (ci < 0) throw unknownClass(id);
            const amount = w * p;
            if (n > 0 && k0 === ci) s0 = Math.fround(s0 + amount);
            else if (n > 1 && k1 === ci) s1 = Math.fround(s1 + amount);
            else if (n > 2 && k2 === ci) s2 = Math.fround(s2 + amount);
            else if (n === 0) { k0 = ci; s0 = Math.fround(amount); n = 1; }
            else if (n === 1) { k1 = ci; s1 = Math.fround(amount); n = 2; }
            else if (n === 2) { k2 = ci; s2 = Math.fround(amount); n = 3; }
            else { k3 = ci; s3 = Math.fround(amount); n = 4; }
          }
        }
        if (cD !== 0) {
          // a double, as it always was: compared unrounded, kept as float32
          const w = wyD * wxD[xD + x]!;
          if (votes === 0) {
            bestWeight = w > 0 ? Math.fround(w) : 0;
            best = w > 0 ? cD : 0;
          } else if (w > bestWeight) {
            bestWeight = Math.fround(w);
            best = cD;
          }
          votes++;
          const p = probsD[rowD + x]!;
          if (p !== 0) {
            const id = idsD[rowD + x]!;
            const ci = classIndex[id]!;
            if (ci < 0) throw unknownClass(id);
            const amount = w * p;
            if (n > 0 && k0 === ci) s0 = Math.fround(s0 + amount);
            else if (n > 1 && k1 === ci) s1 = Math.fround(s1 + amount);
            else if (n > 2 && k2 === ci) s2 = Math.fround(s2 + amount);
            else if (n === 0) { k0 = ci; s0 = Math.fround(amount); n = 1; }
            else if (n === 1) { k1 = ci; s1 = Math.fround(amount); n = 2; }
            else if (n === 2) { k2 = ci; s2 = Math.fround(amount); n = 3; }
            else { k3 = ci; s3 = Math.fround(amount); n = 4; }
          }
        }
        if (votes < 2) {
          out[dst + x] = votes === 0 ? 0 : best;
          continue;
        }
        // the highest score (every class not met scores 0), the lowest class index that has it, and how many do
        const top = Math.max(0, n > 0 ? s0 : 0, n > 1 ? s1 : 0, n > 2 ? s2 : 0, n > 3 ? s3 : 0);
        if (top === 0) {
          // every class at 0: the first leads, tied with the others, and the fallback scores 0 too
          out[dst + x] = classCount > 1 && classIndex[best]! >= 0 ? best : classIds[0]!;
          continue;
        }
        let topIndex = classCount;
        let atTop = 0;
        if (n > 0 && s0 === top) { atTop++; if (k0 < topIndex) topIndex = k0; }
        if (n > 1 && s1 === top) { atTop++; if (k1 < topIndex) topIndex = k1; }
        if (n > 2 && s2 === top) { atTop++; if (k2 < topIndex) topIndex = k2; }
        if (n > 3 && s3 === top) { atTop++; if (k3 < topIndex) topIndex = k3; }
        if (atTop > 1) {
          const fi = classIndex[best]!;
          const fallbackTop = fi >= 0 && ((n > 0 && k0 === fi && s0 === top) || (n > 1 && k1 === fi && s1 === top) || (n > 2 && k2 === fi && s2 === top) || (n > 3 && k3 === fi && s3 === top));
          if (fallbackTop) {
            out[dst + x] = best;
            continue;
          }
        }
        out[dst + x] = classIds[topIndex]!;
      }
    }
  }

  /**
   * agreedPair (agreed-pair.ts) for four windows, in locals (the generic loop over the windows
   * cost more than the row passes it saved): the same rules, for one cell row `y`.
   */
  private agreedFour(cell: SpanRect, wins: readonly WindowContribution[], y: number, out: Uint8Array, dst: number, decided: Uint8Array): number {
    const { classIndex } = this;
    const { arg: argA, probs: probsA, ids: idsA, second: secondA, secondIds: secondIdsA, wx: wxA, x: xA, row: rowA, wy: wyA } = windowRow(wins[0]!, cell, y);
    const { arg: argB, probs: probsB, ids: idsB, second: secondB, secondIds: secondIdsB, wx: wxB, x: xB, row: rowB, wy: wyB } = windowRow(wins[1]!, cell, y);
    const { arg: argC, probs: probsC, ids: idsC, second: secondC, secondIds: secondIdsC, wx: wxC, x: xC, row: rowC, wy: wyC } = windowRow(wins[2]!, cell, y);
    const { arg: argD, probs: probsD, ids: idsD, second: secondD, secondIds: secondIdsD, wx: wxD, x: xD, row: rowD, wy: wyD } = windowRow(wins[3]!, cell, y);
    const length = cell.x1 - cell.x0;
    let left = 0;
    for (let x = 0; x < length; x++) {
      const c = argA[rowA + x]!;
      const cB = argB[rowB + x]!;
      const cC = argC[rowC + x]!;
      const cD = argD[rowD + x]!;
      if (c === 0 && cB === 0 && cC === 0 && cD === 0) {
        out[dst + x] = 0;
        decided[x] = 1;
        continue;
      }
      if (c === 0 || cB !== c || cC !== c || cD !== c || classIndex[c]! < 0) {
        decided[x] = 0;
        left++;
        continue;
      }
      const pA = probsA[rowA + x]!;
      const qA = secondA[rowA + x]!;
      if (pA === 0 || idsA[rowA + x] !== c || qA > pA || (qA !== 0 && classIndex[secondIdsA[rowA + x]!]! < 0)) {
        decided[x] = 0;
        left++;
        continue;
      }
      const pB = probsB[rowB + x]!;
      const qB = secondB[rowB + x]!;
      if (pB === 0 || idsB[rowB + x] !== c || qB > pB || (qB !== 0 && classIndex[secondIdsB[rowB + x]!]! < 0)) {
        decided[x] = 0;
        left++;
        continue;
      }
      const pC = probsC[rowC + x]!;
      const qC = secondC[rowC + x]!;
      if (pC === 0 || idsC[rowC + x] !== c || qC > pC || (qC !== 0 && classIndex[secondIdsC[rowC + x]!]! < 0)) {
        decided[x] = 0;
        left++;
        continue;
      }
      const pD = probsD[rowD + x]!;
      const qD = secondD[rowD + x]!;
      if (pD === 0 || idsD[rowD + x] !== c || qD > pD || (qD !== 0 && classIndex[secondIdsD[rowD + x]!]! < 0)) {
        decided[x] = 0;
        left++;
        continue;
      }
      const scored =
        Math.fround(wyA * wxA[xA + x]! * pA) > 0 ||
        Math.fround(wyB * wxB[xB + x]! * pB) > 0 ||
        Math.fround(wyC * wxC[xC + x]! * pC) > 0 ||
        Math.fround(wyD * wxD[xD + x]! * pD) > 0;
      if (scored) {
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
   * The cell's first window on a row: starts every pixel's state (no votes and no scores yet
   * where it has no data), its rank-0 class the first score of each pixel it votes on.
   */
  private firstVotes(row: RowState, win: WindowContribution, span: RowSpan): void {
    const { voters, bestWeight, bestClass, touched, touchedClass, touchedScore, ranks } = row;
    const { classIndex } = this;
    const { argmax, weightsX } = win;
    const probs = win.softProbs[0];
    const ids = win.softIds[0];
    const { src0, wx0, weightY } = span;
    for (let x = 0; x < span.length; x++) {
      const cls = argmax[src0 + x]!;
      if (cls === 0) {
        voters[x] = 0;
        touched[x] = 0;
        continue;
      }
      // a double, as it always was: compared unrounded, stored as float32
      const weight = weightY * weightsX[wx0 + x]!;
      voters[x] = 1;
      bestWeight[x] = weight > 0 ? weight : 0;
      bestClass[x] = weight > 0 ? cls : 0;
      const p = probs ? probs[src0 + x]! : 0;
      if (p === 0) {
        touched[x] = 0;
        continue;
      }
      const id = ids![src0 + x]!;
      const ci = classIndex[id]!;
      if (ci < 0) throw unknownClass(id);
      touchedClass[x * ranks] = ci;
      touchedScore[x * ranks] = weight * p; // 0 + amount, stored as float32
      touched[x] = 1;
    }
  }

  /** A further window of the cell on a row: its votes, and its rank-0 scores (`probs`, `ids`) added. */
  private laterVotes(row: RowState, win: WindowContribution, span: RowSpan, probs: Uint8Array | undefined, ids: Uint8Array | undefined): void {
    const { voters, bestWeight, bestClass } = row;
    const { argmax, weightsX } = win;
    const { src0, wx0, weightY } = span;
    for (let x = 0; x < span.length; x++) {
      const cls = argmax[src0 + x]!;
      if (cls === 0) continue;
      const weight = weightY * weightsX[wx0 + x]!;
      if (voters[x] === 0) {
        bestWeight[x] = weight > 0 ? weight : 0;
        bestClass[x] = weight > 0 ? cls : 0;
      } else if (weight > bestWeight[x]!) {
        bestWeight[x] = weight;
        bestClass[x] = cls;
      }
      voters[x] = voters[x]! + 1;
      const p = probs ? probs[src0 + x]! : 0;
      if (p !== 0) this.addScore(row, x, ids![src0 + x]!, weight * p);
    }
  }

  /** Scores of one further rank (`probs`, `ids`) of a window on a row, where it has data. */
  private rankScores(row: RowState, win: WindowContribution, span: RowSpan, probs: Uint8Array, ids: Uint8Array): void {
    const { argmax, weightsX } = win;
    const { src0, wx0, weightY } = span;
    for (let x = 0; x < span.length; x++) {
      const p = probs[src0 + x]!;
      if (p === 0 || argmax[src0 + x] === 0) continue;
      this.addScore(row, x, ids[src0 + x]!, weightY * weightsX[wx0 + x]! * p);
    }
  }

  /** Adds `amount` to class `id`'s score at row pixel `x`, as a float32 sum. */
  private addScore(row: RowState, x: number, id: number, amount: number): void {
    const { touched, touchedClass, touchedScore, ranks } = row;
    const ci = this.classIndex[id]!;
    if (ci < 0) throw unknownClass(id);
    const base = x * ranks;
    const count = touched[x]!;
    let t = 0;
    while (t < count && touchedClass[base + t] !== ci) t++;
    if (t === count) {
      touchedClass[base + t] = ci;
      touchedScore[base + t] = amount; // 0 + amount, stored as float32
      touched[x] = count + 1;
    } else {
      touchedScore[base + t] = touchedScore[base + t]! + amount;
    }
  }

  /** Row buffers for blendCell, grown when a longer row or more ranks come. */
  private rowState(length: number, ranks: number): RowState {
    const row = this.row;
    if (row && row.voters.length >= length && row.ranks >= ranks) return { ...row, ranks };
    const capacityLength = Math.max(length, row?.voters.length ?? 0);
    const capacityRanks = Math.max(ranks, row?.ranks ?? 0);
    this.row = {
      ranks: capacityRanks,
      voters: new Int32Array(capacityLength),
      bestWeight: new Float32Array(capacityLength),
      bestClass: new Uint8Array(capacityLength),
      touched: new Int32Array(capacityLength),
      decided: new Uint8Array(capacityLength),
      touchedClass: new Int16Array(capacityLength * capacityRanks),
      touchedScore: new Float32Array(capacityLength * capacityRanks),
    };
    return { ...this.row, ranks };
  }
}

/**
 * Per pixel of a row being blended: how many windows voted, the highest weight among them (as
 * float32) and its class, and the scores of the classes met so far: `touched` of them, from
 * `pixel * ranks` in touchedClass (class index) and touchedScore (float32 sum).
 */
/** Where a window's row starts in its arrays, its row weight, and the cell row's length. */
interface RowSpan {
  readonly src0: number;
  readonly wx0: number;
  readonly weightY: number;
  readonly length: number;
}

interface RowState {
  readonly ranks: number;
  readonly voters: Int32Array;
  readonly bestWeight: Float32Array;
  readonly bestClass: Uint8Array;
  readonly touched: Int32Array;
  /** 1 where agreedPair or agreedFour decided the pixel already. */
  readonly decided: Uint8Array;
  readonly touchedClass: Int16Array;
  readonly touchedScore: Float32Array;
}

/** A window over `cell` with no data anywhere: blendFour's stand-in for a missing fourth. */
function noVotes(cell: SpanRect): WindowContribution {
  const width = cell.x1 - cell.x0;
  const height = cell.y1 - cell.y0;
  const none = new Uint8Array(width * height);
  const weights = new Float32Array(Math.max(width, height));
  return { width, height, argmax: none, softIds: [none], softProbs: [none], weightsX: weights, weightsY: weights, offsetX: cell.x0, offsetY: cell.y0 };
}
