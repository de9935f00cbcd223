/**
 * Agreement of a blended map with the whole-mosaic reference, split by where the pixel is:
 * inner (more than BORDER px from the mosaic edge) or border band, and for inner pixels by
 * distance to the nearest seam (a window edge inside the mosaic: where a window's context
 * stops), and the interior pixels: those no window at the mosaic's edge covers. Pure: arrays in,
 * counts out.
 */
export const BORDER = 256;
/** Upper bounds of the seam-distance bins, px (the last bin is open). */
export const SEAM_BINS = [16, 32, 64, 128] as const;

export interface Agreement {
  inner: { same: number; total: number };
  /**
   * Pixels covered by no window of the first or last row or column. The edge windows flatter
   * large windows on a small mosaic: along the mosaic edge a window misses no context the
   * whole-mosaic pass has, and the last one is snapped inside, overlapping its neighbour by more
   * than the overlap. The interior is what the middle of a département sees; empty ("-") when an
   * axis has fewer than 3 windows.
   */
  interior: { same: number; total: number };
  border: { same: number; total: number };
  /** One per SEAM_BINS entry plus the open last bin. */
  bySeam: Array<{ same: number; total: number }>;
}

/** The pixel range [from, to) of an axis that neither its first nor its last window covers (empty below 3 windows). */
export function interiorRange(starts: readonly number[], patch: number): { from: number; to: number } {
  const from = starts[0]! + patch;
  const to = starts[starts.length - 1]!;
  return to > from ? { from, to } : { from: 0, to: 0 };
}

/** Distance of each pixel centre along an axis to the nearest window edge strictly inside (0, length). */
export function seamDistances(length: number, starts: readonly number[], patch: number): Float32Array {
  const lines = new Set<number>();
  for (const s of starts) {
    if (s > 0) lines.add(s);
    if (s + patch < length) lines.add(s + patch);
  }
  const out = new Float32Array(length).fill(Infinity);
  for (let i = 0; i < length; i++) for (const l of lines) out[i] = Math.min(out[i]!, Math.abs(i + 0.5 - l));
  return out;
}

export function agreement(
  reference: Uint8Array,
  blended: Uint8Array,
  width: number,
  height: number,
  seamX: Float32Array,
  seamY: Float32Array,
  interiorX: { from: number; to: number } = { from: 0, to: 0 },
  interiorY: { from: number; to: number } = { from: 0, to: 0 },
): Agreement {
  const a: Agreement = { inner: { same: 0, total: 0 }, interior: { same: 0, total: 0 }, border: { same: 0, total: 0 }, bySeam: [...SEAM_BINS, Infinity].map(() => ({ same: 0, total: 0 })) };
  for (let y = 0; y < height; y++) {
    const innerY = y >= BORDER && y < height - BORDER;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (reference[i] === 0) continue; // no data in the reference: nothing to compare
      const same = reference[i] === blended[i] ? 1 : 0;
      if (!(innerY && x >= BORDER && x < width - BORDER)) {
        a.border.same += same;
        a.border.total++;
        continue;
      }
      a.inner.same += same;
      a.inner.total++;
      if (x >= interiorX.from && x < interiorX.to && y >= interiorY.from && y < interiorY.to) {
        a.interior.same += same;
        a.interior.total++;
      }
      const d = Math.min(seamX[x]!, seamY[y]!);
      let bin = SEAM_BINS.findIndex((b) => d < b);
      if (bin < 0) bin = SEAM_BINS.length;
      a.bySeam[bin]!.same += same;
      a.bySeam[bin]!.total++;
    }
  }
  return a;
}

export function percent(p: { same: number; total: number }): string {
  return p.total === 0 ? '-' : ((100 * p.same) / p.total).toFixed(2);
}
