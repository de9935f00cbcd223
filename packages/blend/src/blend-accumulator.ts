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
 */
export class BlendAccumulator {
  private readonly n: number;
  private readonly scores: Float32Array;
  private readonly coverage: Uint8Array;
  private readonly bestWeight: Float32Array;
  private readonly bestClass: Uint8Array;
  private readonly classIndex = new Int16Array(256).fill(-1);

  /** `classIds`: the FLAIR ids that can occur, e.g. the model's enabled classes. */
  constructor(readonly width: number, readonly height: number, private readonly classIds: readonly number[]) {
    this.n = width * height;
    classIds.forEach((id, i) => (this.classIndex[id] = i));
    this.scores = new Float32Array(classIds.length * this.n);
    this.coverage = new Uint8Array(this.n);
    this.bestWeight = new Float32Array(this.n);
    this.bestClass = new Uint8Array(this.n);
  }

  add(win: WindowContribution): void {
    const { width: W, height: H, n } = this;
    const x0 = Math.max(0, win.offsetX);
    const y0 = Math.max(0, win.offsetY);
    const x1 = Math.min(W, win.offsetX + win.width);
    const y1 = Math.min(H, win.offsetY + win.height);
    const k = win.softIds.length;
    for (let y = y0; y < y1; y++) {
      const wy = y - win.offsetY;
      const weightY = win.weightsY[wy]!;
      for (let x = x0; x < x1; x++) {
        const wx = x - win.offsetX;
        const src = wy * win.width + wx;
        const cls = win.argmax[src]!;
        if (cls === 0) continue;
        const dst = y * W + x;
        const weight = weightY * win.weightsX[wx]!;
        this.coverage[dst] = Math.min(255, this.coverage[dst]! + 1);
        if (weight > this.bestWeight[dst]!) {
          this.bestWeight[dst] = weight;
          this.bestClass[dst] = cls;
        }
        for (let r = 0; r < k; r++) {
          const p = win.softProbs[r]![src]!;
          if (p === 0) continue;
          const ci = this.classIndex[win.softIds[r]![src]!]!;
          if (ci < 0) throw new RangeError(`class id ${win.softIds[r]![src]} is not one of the model's classes`);
          this.scores[ci * n + dst]! += weight * p;
        }
      }
    }
  }

  /** Class ids per region pixel (0 = no data), row-major. */
  resolve(): Uint8Array {
    const { n } = this;
    const out = new Uint8Array(n);
    const C = this.classIds.length;
    for (let i = 0; i < n; i++) {
      const cover = this.coverage[i]!;
      if (cover === 0) continue;
      const fallback = this.bestClass[i]!;
      if (cover === 1) {
        out[i] = fallback;
        continue;
      }
      let best = -1;
      let bestScore = -Infinity;
      let tie = false;
      for (let c = 0; c < C; c++) {
        const s = this.scores[c * n + i]!;
        if (s > bestScore) {
          bestScore = s;
          best = c;
          tie = false;
        } else if (s === bestScore) {
          tie = true;
        }
      }
      if (tie && this.scores[this.classIndex[fallback]! * n + i] === bestScore) out[i] = fallback;
      else out[i] = this.classIds[best]!;
    }
    return out;
  }
}
