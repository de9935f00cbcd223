import type { ModelManifest } from './model-manifest';

/**
 * Per band, the float32 the model sees for each raw byte: `(v - mean) / std` on raw 0..255 values
 * (no /255 first, as FLAIR trained). A lookup keeps patch assembly at one read per value, and
 * every code path (engine, whole-image reference) rounds identically.
 */
export function normalisationTables(manifest: Pick<ModelManifest, 'bands' | 'mean' | 'std'>): Float32Array[] {
  return manifest.bands.map((_, b) => {
    const mean = manifest.mean[b]!;
    const std = manifest.std[b]!;
    return Float32Array.from({ length: 256 }, (_v, i) => (i - mean) / std);
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
