import { coverageCells, type SpanRect } from './coverage-cells';

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
  /** One pixel's scores while it is blended: class indices met, and their float32 sums. */
  private touchedClass = new Int32Array(16);
  private touchedScore = new Float64Array(16);

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
        this.blendCell(cell, cell.windows.map((i) => this.windows[i]!), out);
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
   * A cell several windows cover, pixel by pixel: the windows with data there vote in the
   * order added. One voter: its class (if its weight is > 0). Several: each class's score is
   * the float32 sum of weight * probability, added in window then rank order; the highest
   * score wins, the lowest class index among equals; on a tie the highest-weight voter's class
   * wins if its score is the top one.
   */
  private blendCell(cell: SpanRect, wins: readonly WindowContribution[], out: Uint8Array): void {
    const m = wins.length;
    const { classIndex, classIds, classCount } = this;
    const ranks = wins.reduce((sum, win) => sum + win.softProbs.length, 0);
    if (this.touchedClass.length < ranks) {
      this.touchedClass = new Int32Array(ranks);
      this.touchedScore = new Float64Array(ranks);
    }
    const { touchedClass, touchedScore } = this;
    const argmaxes = wins.map((win) => win.argmax);
    const weightsXs = wins.map((win) => win.weightsX);
    const offsetXs = Int32Array.from(wins, (win) => win.offsetX);
    const rowStart = new Int32Array(m);
    const weightY = new Float64Array(m);
    for (let y = cell.y0; y < cell.y1; y++) {
      for (let j = 0; j < m; j++) {
        const win = wins[j]!;
        const wy = y - win.offsetY;
        rowStart[j] = wy * win.width - win.offsetX; // + region x = window pixel
        weightY[j] = win.weightsY[wy]!;
      }
      const dstRow = y * this.w;
      for (let x = cell.x0; x < cell.x1; x++) {
        let voters = 0;
        let bestWeight = 0;
        let bestClass = 0;
        let touched = 0;
        for (let j = 0; j < m; j++) {
          const src = rowStart[j]! + x;
          const cls = argmaxes[j]![src]!;
          if (cls === 0) continue;
          // a double, as it always was: compared unrounded, kept as float32
          const weight = weightY[j]! * weightsXs[j]![x - offsetXs[j]!]!;
          if (voters === 0) {
            bestWeight = weight > 0 ? Math.fround(weight) : 0;
            bestClass = weight > 0 ? cls : 0;
          } else if (weight > bestWeight) {
            bestWeight = Math.fround(weight);
            bestClass = cls;
          }
          voters++;
          const { softIds, softProbs } = wins[j]!;
          for (let r = 0; r < softProbs.length; r++) {
            const p = softProbs[r]![src]!;
            if (p === 0) continue;
            const id = softIds[r]![src]!;
            const ci = classIndex[id]!;
            if (ci < 0) throw unknownClass(id);
            let t = 0;
            while (t < touched && touchedClass[t] !== ci) t++;
            if (t === touched) {
              touchedClass[t] = ci;
              touchedScore[t] = Math.fround(weight * p);
              touched++;
            } else {
              touchedScore[t] = Math.fround(touchedScore[t]! + weight * p);
            }
          }
        }
        out[dstRow + x] = voters < 2 ? bestClass : decide(touchedClass, touchedScore, touched, bestClass, classIndex[bestClass]!, classIds, classCount);
      }
    }
  }
}

/**
 * The class of a pixel several windows voted on, from the `touched` classes it has scores for
 * (every other class scores 0): the top score's lowest class index, unless that top is tied
 * and the fallback (the highest-weight voter's class, index `fallbackIndex`) has it.
 */
function decide(
  touchedClass: Int32Array,
  touchedScore: Float64Array,
  touched: number,
  fallback: number,
  fallbackIndex: number,
  classIds: readonly number[],
  classCount: number,
): number {
  let top = 0;
  for (let t = 0; t < touched; t++) if (touchedScore[t]! > top) top = touchedScore[t]!;
  if (top === 0) {
    // every class at 0: the first leads, tied with the others, and the fallback scores 0 too
    return classCount > 1 && fallbackIndex >= 0 ? fallback : classIds[0]!;
  }
  let topIndex = classCount;
  let atTop = 0;
  let fallbackScore = 0;
  for (let t = 0; t < touched; t++) {
    const score = touchedScore[t]!;
    const ci = touchedClass[t]!;
    if (ci === fallbackIndex) fallbackScore = score;
    if (score === top) {
      atTop++;
      if (ci < topIndex) topIndex = ci;
    }
  }
  return atTop > 1 && fallbackIndex >= 0 && fallbackScore === top ? fallback : classIds[topIndex]!;
}

function unknownClass(id: number): RangeError {
  return new RangeError(`class id ${id} is not one of the model's classes`);
}
