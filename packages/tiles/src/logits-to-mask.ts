import type { PixelRect } from '@fleet/grid';
import { inRect, type MaskTile } from './mask-tile';

/** The model's class table as postprocessing needs it. */
export interface ClassLogit {
  /** Logit index in the model output. */
  readonly logit: number;
  /** FLAIR class id written to maps (1..255). */
  readonly id: number;
}

export interface LogitsToMaskOptions {
  /** Logits of one patch, [L][patch][patch], float32. */
  logits: Float32Array;
  patch: number;
  /** Enabled classes; logits not listed never win (the FLAIR contract for switched-off classes). */
  classes: readonly ClassLogit[];
  /** Window size (<= patch; the window occupies the patch's top-left corner). */
  width: number;
  height: number;
  /** Exclusive core of the window: no probabilities are kept inside it. */
  core: PixelRect;
  /** 1 where the input has data, per window pixel; absent = all valid. */
  valid?: Uint8Array;
  /** Classes kept per soft pixel. Default 2. */
  k?: number;
}

/**
 * Softmax over the enabled logits, argmax and top-k, per pixel. The argmax is taken on the
 * float logits (ties: the first class in `classes` order), so a context-free model gives
 * exactly the map a whole-mosaic argmax would.
 */
export function logitsToMaskTile(options: LogitsToMaskOptions): MaskTile {
  const { logits, patch, classes, width, height, core, valid } = options;
  const k = Math.min(options.k ?? 2, classes.length);
  const plane = patch * patch;
  const n = width * height;
  const argmax = new Uint8Array(n);
  const softIds = Array.from({ length: k }, () => new Uint8Array(n));
  const softProbs = Array.from({ length: k }, () => new Uint8Array(n));
  const offsets = classes.map((c) => c.logit * plane);
  const ids = classes.map((c) => c.id);
  const C = classes.length;
  const rankIdx = new Int32Array(k);
  const rankVal = new Float64Array(k);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      if (valid && valid[o] === 0) continue;
      const p = y * patch + x;
      let best = 0;
      let max = logits[offsets[0]! + p]!;
      for (let c = 1; c < C; c++) {
        const v = logits[offsets[c]! + p]!;
        if (v > max) {
          max = v;
          best = c;
        }
      }
      argmax[o] = ids[best]!;
      if (inRect(core, x, y)) continue;
      rankIdx.fill(-1);
      rankVal.fill(-Infinity);
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(logits[offsets[c]! + p]! - max);
        sum += e;
        // insertion into the top-k; strict '>' keeps the earlier class on ties, like the argmax
        if (e > rankVal[k - 1]!) {
          let r = k - 1;
          while (r > 0 && e > rankVal[r - 1]!) {
            rankVal[r] = rankVal[r - 1]!;
            rankIdx[r] = rankIdx[r - 1]!;
            r--;
          }
          rankVal[r] = e;
          rankIdx[r] = c;
        }
      }
      for (let r = 0; r < k; r++) {
        const c = rankIdx[r]!;
        if (c < 0) break;
        softIds[r]![o] = ids[c]!;
        softProbs[r]![o] = Math.round((rankVal[r]! / sum) * 255);
      }
    }
  }
  return { width, height, core, k, argmax, softIds, softProbs };
}
