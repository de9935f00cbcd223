import type { PixelRect } from '@fleet/grid';
import type { MaskTile } from './mask-tile';

export interface PatchOutputsToMaskOptions {
  /** The model's class id per patch pixel, `[patch][patch]` (the argmax, computed in the graph). */
  classIds: Uint8Array;
  /** `[k][patch][patch]`: class ids ranked by probability. */
  topIds: Uint8Array;
  /** `[k][patch][patch]`: their probabilities x 255, rounded. */
  topProbs: Uint8Array;
  patch: number;
  /** Ranks in `topIds`/`topProbs`. */
  k: number;
  /** Window size (<= patch; the window occupies the patch's top-left corner). */
  width: number;
  height: number;
  /** Exclusive core of the window: no probabilities are kept inside it. */
  core: PixelRect;
  /** 1 where the input has data, per window pixel; absent = all valid. */
  valid?: Uint8Array;
}

/**
 * Crops one patch's model outputs to its window and builds the tile: class ids everywhere,
 * ranked ids and probabilities only outside the exclusive core, and 0 for everything where the
 * input has no data.
 */
export function maskTileFromOutputs(o: PatchOutputsToMaskOptions): MaskTile {
  checkPatchOutputs(o);
  const { patch, k, width, height, core, valid } = o;
  const plane = patch * patch;
  const n = width * height;
  const argmax = new Uint8Array(n);
  for (let y = 0; y < height; y++) argmax.set(o.classIds.subarray(y * patch, y * patch + width), y * width);
  // Soft planes are zero inside the core: only the runs outside it are copied (on a 512 px
  // window with a 128 px overlap that is under half the pixels) and fixed up.
  const softIds = Array.from({ length: k }, () => new Uint8Array(n));
  const softProbs = Array.from({ length: k }, () => new Uint8Array(n));
  const ids0 = softIds[0]!;
  const probs0 = softProbs[0]!;
  const coreEndX = core.x + core.width;
  const softRun = (y: number, from: number, to: number): void => {
    if (to <= from) return;
    const src = y * patch;
    const dst = y * width;
    for (let r = 0; r < k; r++) {
      softIds[r]!.set(o.topIds.subarray(r * plane + src + from, r * plane + src + to), dst + from);
      softProbs[r]!.set(o.topProbs.subarray(r * plane + src + from, r * plane + src + to), dst + from);
    }
    for (let i = dst + from, end = dst + to; i < end; i++) {
      const id = argmax[i]!;
      if (ids0[i] === id) continue;
      // The graph takes the argmax on the logits and ranks softmax values; where two classes'
      // probabilities are equal in float32 the ranking may put the other one first. The tile
      // format requires rank 0 to be the argmax (its id is not stored), so swap it back.
      let j = 1;
      while (j < k && softIds[j]![i] !== id) j++;
      if (j < k) {
        softIds[j]![i] = ids0[i]!;
        const p = softProbs[j]![i]!;
        softProbs[j]![i] = probs0[i]!;
        probs0[i] = p;
      }
      ids0[i] = id;
    }
  };
  for (let y = 0; y < height; y++) {
    if (y >= core.y && y < core.y + core.height && core.width > 0) {
      softRun(y, 0, Math.min(core.x, width));
      softRun(y, Math.max(coreEndX, 0), width);
    } else {
      softRun(y, 0, width);
    }
  }
  if (valid) {
    // no data: class 0 and no probabilities (only where the read found a hole: indexOf is native)
    for (let i = valid.indexOf(0); i !== -1; i = valid.indexOf(0, i + 1)) {
      argmax[i] = 0;
      for (let r = 0; r < k; r++) softIds[r]![i] = softProbs[r]![i] = 0;
    }
  }
  return { width, height, core, k, argmax, softIds, softProbs };
}

/** Throws when the outputs' sizes do not match the patch, k and window given. */
export function checkPatchOutputs(o: PatchOutputsToMaskOptions): void {
  const { patch, k, width, height } = o;
  const plane = patch * patch;
  if (o.classIds.length !== plane || o.topIds.length !== k * plane || o.topProbs.length !== k * plane) {
    throw new RangeError(
      `model outputs have ${o.classIds.length} class ids and ${o.topIds.length}/${o.topProbs.length} top-k values; expected ${plane} and ${k} x ${plane}`,
    );
  }
  if (width > patch || height > patch) throw new RangeError(`window ${width}x${height} is larger than the patch ${patch}`);
}
