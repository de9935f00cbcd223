import type { PixelRect } from '@fleet/grid';
import { inRect, type MaskTile } from './mask-tile';

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
  const { patch, k, width, height, core, valid } = o;
  const plane = patch * patch;
  if (o.classIds.length !== plane || o.topIds.length !== k * plane || o.topProbs.length !== k * plane) {
    throw new RangeError(
      `model outputs have ${o.classIds.length} class ids and ${o.topIds.length}/${o.topProbs.length} top-k values; expected ${plane} and ${k} x ${plane}`,
    );
  }
  if (width > patch || height > patch) throw new RangeError(`window ${width}x${height} is larger than the patch ${patch}`);
  const n = width * height;
  const crop = (source: Uint8Array, offset: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let y = 0; y < height; y++) out.set(source.subarray(offset + y * patch, offset + y * patch + width), y * width);
    return out;
  };
  const argmax = crop(o.classIds, 0);
  const softIds = Array.from({ length: k }, (_, r) => crop(o.topIds, r * plane));
  const softProbs = Array.from({ length: k }, (_, r) => crop(o.topProbs, r * plane));

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if ((valid && valid[i] === 0) || inRect(core, x, y)) {
        if (valid && valid[i] === 0) argmax[i] = 0;
        for (let r = 0; r < k; r++) softIds[r]![i] = softProbs[r]![i] = 0;
        continue;
      }
      // The graph takes the argmax on the logits and ranks softmax values; where two classes'
      // probabilities are equal in float32 the ranking may put the other one first. The tile
      // format requires rank 0 to be the argmax (its id is not stored), so swap it back.
      if (softIds[0]![i] !== argmax[i]) {
        let j = 1;
        while (j < k && softIds[j]![i] !== argmax[i]) j++;
        if (j < k) {
          softIds[j]![i] = softIds[0]![i]!;
          const p = softProbs[j]![i]!;
          softProbs[j]![i] = softProbs[0]![i]!;
          softProbs[0]![i] = p;
        }
        softIds[0]![i] = argmax[i]!;
      }
    }
  }
  return { width, height, core, k, argmax, softIds, softProbs };
}
