import type { WindowContribution } from './blend-accumulator';

/**
 * The accumulator as it was before the cell-wise resolve (commit f0bc2e3), kept only as the
 * reference that blend-equivalence.test.ts compares the current BlendAccumulator against on
 * random windows: pixel by pixel, as windows are added, with a dense per-class score vector.
 * A test helper (test-*.ts): not built, not exported.
 */
export class ReferenceBlendAccumulator {
  private w: number;
  private h: number;
  private n: number;
  private readonly capacity: number;
  private readonly classCount: number;
  /** classCount scores per pixel, pixel-major; valid only where coverage > 1. */
  private readonly scores: Float32Array;
  private readonly coverage: Uint8Array;
  private readonly bestWeight: Float32Array;
  private readonly bestClass: Uint8Array;
  private readonly classIndex = new Int16Array(256).fill(-1);
  /**
   * Where coverage > 1, the running argmax of the scores, kept as they grow (scores only
   * grow: weights and probabilities are >= 0), so resolve does not scan every class of every
   * pixel: the highest score, the first class index that has it, and whether another has it.
   */
  private readonly topScore: Float32Array;
  private readonly topIndex: Uint8Array;
  private readonly topTied: Uint8Array;
  /** Where coverage is 1, the window (index in `windows`) that covers the pixel. */
  private readonly firstWindow: Uint16Array;
  /** The windows added since the last reset, in order. */
  private readonly windows: WindowContribution[] = [];

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
    this.scores = new Float32Array(this.classCount * capacity);
    this.coverage = new Uint8Array(capacity);
    this.bestWeight = new Float32Array(capacity);
    this.bestClass = new Uint8Array(capacity);
    this.firstWindow = new Uint16Array(capacity);
    this.topScore = new Float32Array(capacity);
    this.topIndex = new Uint8Array(capacity);
    this.topTied = new Uint8Array(capacity);
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
    this.coverage.fill(0, 0, this.n);
    this.windows.length = 0;
  }

  add(win: WindowContribution): void {
    const slot = this.windows.length;
    if (slot > 0xffff) throw new RangeError(`more than ${0xffff + 1} windows added to one region`);
    this.windows.push(win);
    const W = this.w;
    const C = this.classCount;
    const x0 = Math.max(0, win.offsetX);
    const y0 = Math.max(0, win.offsetY);
    const x1 = Math.min(W, win.offsetX + win.width);
    const y1 = Math.min(this.h, win.offsetY + win.height);
    const k = win.softIds.length;
    const { argmax, softIds, softProbs, weightsX, weightsY, offsetX } = win;
    const { scores, coverage, bestWeight, bestClass, classIndex, firstWindow } = this;
    for (let y = y0; y < y1; y++) {
      const wy = y - win.offsetY;
      const weightY = weightsY[wy]!;
      const srcRow = wy * win.width - offsetX; // + region x = window pixel
      const dstRow = y * W;
      for (let x = x0; x < x1; x++) {
        const src = srcRow + x;
        const cls = argmax[src]!;
        if (cls === 0) continue;
        const dst = dstRow + x;
        // a double, as it always was: compared unrounded, stored as float32
        const weight = weightY * weightsX[x - offsetX]!;
        const cover = coverage[dst]!;
        if (cover === 0) {
          // first window here: no scores yet, as one window alone gives its exact argmax
          coverage[dst] = 1;
          firstWindow[dst] = slot;
          const first = weight > 0;
          bestWeight[dst] = first ? weight : 0;
          bestClass[dst] = first ? cls : 0;
          for (let r = 0; r < k; r++) {
            if (softProbs[r]![src] !== 0 && classIndex[softIds[r]![src]!]! < 0) throw unknownClass(softIds[r]![src]!);
          }
          continue;
        }
        const base = dst * C;
        if (cover === 1) {
          // second window: the first one's scores now matter, added first as they always were
          for (let c = 0; c < C; c++) scores[base + c] = 0;
          // all classes at 0: the first one leads, tied with the others
          this.topScore[dst] = 0;
          this.topIndex[dst] = 0;
          this.topTied[dst] = C > 1 ? 1 : 0;
          this.replayFirst(firstWindow[dst]!, x, y, dst, base);
        }
        if (cover < 255) coverage[dst] = cover + 1;
        if (weight > bestWeight[dst]!) {
          bestWeight[dst] = weight;
          bestClass[dst] = cls;
        }
        for (let r = 0; r < k; r++) {
          const p = softProbs[r]![src]!;
          if (p === 0) continue;
          const ci = classIndex[softIds[r]![src]!]!;
          if (ci < 0) throw unknownClass(softIds[r]![src]!);
          this.raise(dst, base, ci, weight * p);
        }
      }
    }
  }

  /**
   * Adds `amount` to class index `ci` of pixel `dst` (scores from `base`) as a float32 sum, as
   * it always was, and keeps the pixel's running argmax: a class passing the top score leads
   * alone; one reaching it ties, and leads if its index is lower.
   */
  private raise(dst: number, base: number, ci: number, amount: number): void {
    const { scores } = this;
    const before = scores[base + ci]!;
    scores[base + ci] = before + amount;
    const after = scores[base + ci]!; // rounded to float32
    const top = this.topScore[dst]!;
    if (after > top) {
      this.topScore[dst] = after;
      this.topIndex[dst] = ci;
      this.topTied[dst] = 0;
    } else if (after === top && before !== top) {
      this.topTied[dst] = 1;
      if (ci < this.topIndex[dst]!) this.topIndex[dst] = ci;
    }
  }

  /** Adds the scores of the window in `slot` at region pixel (x, y) = `dst`, whose scores start at `base`. */
  private replayFirst(slot: number, x: number, y: number, dst: number, base: number): void {
    const win = this.windows[slot]!;
    const wx = x - win.offsetX;
    const wy = y - win.offsetY;
    const src = wy * win.width + wx;
    const weight = win.weightsY[wy]! * win.weightsX[wx]!;
    for (let r = 0; r < win.softIds.length; r++) {
      const p = win.softProbs[r]![src]!;
      if (p !== 0) this.raise(dst, base, this.classIndex[win.softIds[r]![src]!]!, weight * p);
    }
  }

  /** Class ids per region pixel (0 = no data), row-major, into `out` (or a new array). */
  resolve(out: Uint8Array = new Uint8Array(this.n)): Uint8Array {
    const { n, scores, coverage, bestClass, classIndex, classIds, topScore, topIndex, topTied } = this;
    const C = this.classCount;
    if (out.length < n) throw new RangeError(`output holds ${out.length} pixels, the region ${n}`);
    for (let i = 0; i < n; i++) {
      const cover = coverage[i]!;
      if (cover === 0) {
        out[i] = 0;
        continue;
      }
      const fallback = bestClass[i]!;
      if (cover === 1) {
        out[i] = fallback;
        continue;
      }
      const best = topIndex[i]!;
      const tie = topTied[i] === 1;
      const bestScore = topScore[i]!;
      const fi = classIndex[fallback]!;
      if (tie && fi >= 0 && scores[i * C + fi] === bestScore) out[i] = fallback;
      else out[i] = classIds[best]!;
    }
    return out;
  }
}

function unknownClass(id: number): RangeError {
  return new RangeError(`class id ${id} is not one of the model's classes`);
}
