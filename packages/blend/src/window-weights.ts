/**
 * Blending weight of a window along one axis: 1 in the middle, falling towards both edges
 * as sin^2 over `ramp` pixels. Where two windows overlap by exactly `ramp` pixels the two
 * ramps sum to ~1 (sin^2 + cos^2), so the blend is a smooth cross-fade from one window to
 * the next: the pixels near a window's edge, which the model saw with the least context,
 * count least. Weights stay > 0 so a pixel covered by one window still has a defined blend.
 * The 2-D weight is the product of the two axes' weights.
 */
export function axisWeights(size: number, ramp: number): Float32Array {
  const w = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const d = Math.min(i, size - 1 - i); // pixels to the nearer edge
    w[i] = ramp > 0 && d < ramp ? Math.sin((Math.PI / 2) * ((d + 0.5) / ramp)) ** 2 : 1;
  }
  return w;
}

/** Memoised axis weights: a merge asks for the same few sizes thousands of times. */
export class WeightTable {
  private readonly cache = new Map<number, Float32Array>();
  constructor(readonly ramp: number) {}
  get(size: number): Float32Array {
    let w = this.cache.get(size);
    if (!w) {
      w = axisWeights(size, this.ramp);
      this.cache.set(size, w);
    }
    return w;
  }
}
