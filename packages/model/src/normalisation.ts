import type { ModelManifest } from './model-manifest';

/**
 * Per band, the float32 the model sees for each raw byte: `(v - mean) / std` on raw 0..255 values
 * (no /255 first, as FLAIR trained), computed with float32 operands and a float32 rounding after
 * each step, exactly as the wrapped graph's Sub and Div do on the accelerator (see wrap-model.ts).
 * Rounding a float64 sum or quotient of two float32 values to float32 gives the correctly rounded
 * float32 result, so these tables are bit-identical to the graph's arithmetic and the whole-image
 * reference (inferWholeImage) feeds the model the very same floats.
 */
export function normalisationTables(manifest: Pick<ModelManifest, 'bands' | 'mean' | 'std'>): Float32Array[] {
  return manifest.bands.map((_, b) => {
    const mean = Math.fround(manifest.mean[b]!);
    const std = Math.fround(manifest.std[b]!);
    return Float32Array.from({ length: 256 }, (_v, i) => Math.fround(i - mean) / std);
  });
}

/** Writes band-separate raw planes `[bands][pixels]` into `out` as normalised floats, from `offset`. */
export function normaliseInto(tables: readonly Float32Array[], input: Uint8Array, out: Float32Array, offset = 0): void {
  const pixels = input.length / tables.length;
  tables.forEach((lut, b) => {
    const base = b * pixels;
    const dst = offset + base;
    for (let p = 0; p < pixels; p++) out[dst + p] = lut[input[base + p]!]!;
  });
}
