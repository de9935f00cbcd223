/**
 * How much a window's prediction counts at each of its pixels, along one axis (the 2-D weight
 * is the product of the two axes' weights). Weights stay > 0 so a pixel covered by one window
 * still has a defined blend (the accumulator's tie-break keeps the highest-weight window).
 *
 * - `gaussian` (the default since issue 13): exp(-(x - centre)^2 / (2 sigma^2)), sigma = size/8,
 *   peak 1 at the window centre, ~3e-4 at its edge. Every pixel is decided mostly by the window
 *   that has it nearest its centre, i.e. the one that saw it with the most context, yet the hand
 *   over is smooth. On bench:seams (FLAIR-shaped model, whole-mosaic reference) it agrees with
 *   the whole-mosaic argmax more than the sin^2 ramp and more than a hard centre crop at every
 *   overlap (BENCHMARKS.md, "Seams").
 * - `sin2-ramp` (the default before): 1 in the middle, falling towards both edges as sin^2 over
 *   `overlap` pixels; two windows overlapping by exactly that much cross-fade with weights
 *   summing to ~1. Runs planned before issue 13 (no `weighting` in their spec) keep it.
 */
export const WINDOW_WEIGHTINGS = ['gaussian', 'sin2-ramp'] as const;
export type WindowWeighting = (typeof WINDOW_WEIGHTINGS)[number];
export const DEFAULT_WINDOW_WEIGHTING: WindowWeighting = 'gaussian';
/** The weighting of a run whose spec does not name one (planned before issue 13). */
export const LEGACY_WINDOW_WEIGHTING: WindowWeighting = 'sin2-ramp';

/** sigma of the Gaussian weighting, as a fraction of the window size (MONAI's default too). */
export const GAUSSIAN_SIGMA_FRACTION = 1 / 8;

/** sin^2 ramp over `ramp` pixels at both ends, 1 in between. */
export function axisWeights(size: number, ramp: number): Float32Array {
  const w = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const d = Math.min(i, size - 1 - i); // pixels to the nearer edge
    w[i] = ramp > 0 && d < ramp ? Math.sin((Math.PI / 2) * ((d + 0.5) / ramp)) ** 2 : 1;
  }
  return w;
}

/** Gaussian around the window's centre, sigma = size * GAUSSIAN_SIGMA_FRACTION; symmetric, peak 1 (odd size) or just under (even). */
export function gaussianAxisWeights(size: number): Float32Array {
  const w = new Float32Array(size);
  const centre = (size - 1) / 2;
  const sigma = Math.max(0.5, size * GAUSSIAN_SIGMA_FRACTION);
  for (let i = 0; i < size; i++) w[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
  return w;
}

/** Axis weights of one window side under a weighting; `overlap` is the plan's (the ramp width). */
export function windowAxisWeights(weighting: WindowWeighting, size: number, overlap: number): Float32Array {
  switch (weighting) {
    case 'gaussian':
      return gaussianAxisWeights(size);
    case 'sin2-ramp':
      return axisWeights(size, overlap);
  }
}

/** Memoised axis weights: a merge asks for the same few sizes thousands of times. */
export class WeightTable {
  private readonly cache = new Map<number, Float32Array>();
  constructor(readonly overlap: number, readonly weighting: WindowWeighting = DEFAULT_WINDOW_WEIGHTING) {
    if (!WINDOW_WEIGHTINGS.includes(weighting)) throw new RangeError(`unknown window weighting "${weighting}"; known: ${WINDOW_WEIGHTINGS.join(', ')}`);
  }
  get(size: number): Float32Array {
    let w = this.cache.get(size);
    if (!w) {
      w = windowAxisWeights(this.weighting, size, this.overlap);
      this.cache.set(size, w);
    }
    return w;
  }
}
