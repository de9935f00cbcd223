import type { PixelRect } from '@fleet/grid';

/**
 * What a worker keeps of one window's inference, and all the merger needs to blend it:
 * - `argmax`: the winning FLAIR class id of every pixel (0 = no data), exact (from float logits);
 * - outside the window's exclusive core (where other windows overlap it), the top-k classes
 *   with their probabilities quantised to 0..255, so overlapping windows can be blended.
 * Inside the core no other window contributes, so the class alone suffices; that is what
 * keeps tiles small (see README, "Mask tiles").
 */
export interface MaskTile {
  /** Window size in pixels (the part of the patch inside the mosaic). */
  readonly width: number;
  readonly height: number;
  /** The exclusive core, in window coordinates (may be empty). */
  readonly core: PixelRect;
  /** Number of classes kept per soft pixel, >= 1. */
  readonly k: number;
  /** width*height FLAIR class ids, 0 where the input had no data. */
  readonly argmax: Uint8Array;
  /** k planes of width*height class ids, ranked by probability; softIds[0] equals argmax. Zero inside the core. */
  readonly softIds: Uint8Array[];
  /** k planes of width*height probabilities * 255, rounded. Zero inside the core and on no-data pixels. */
  readonly softProbs: Uint8Array[];
}

export function inRect(rect: PixelRect, x: number, y: number): boolean {
  return x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
}
