/**
 * Pure: pixel counts gained and lost per class between two versions of the same pixels (a
 * block's previous and next classes). Class 0 is nodata: a pixel going 0 -> 5 gains class 5
 * and loses nothing. A version that does not exist (a block new tonight, or removed) is
 * passed as undefined: every pixel of the other one is gained (or lost).
 */
export interface PixelChanges {
  /** class id -> pixels that are this class now and were not before. */
  gained: Map<number, number>;
  /** class id -> pixels that were this class before and are not now. */
  lost: Map<number, number>;
  /** Pixels whose class differs (nodata counts as a class here). */
  changed: number;
}

export function emptyPixelChanges(): PixelChanges {
  return { gained: new Map(), lost: new Map(), changed: 0 };
}

const bump = (m: Map<number, number>, id: number, n = 1) => m.set(id, (m.get(id) ?? 0) + n);

/** Adds the changes of one stretch of pixels (same length, or one side undefined) into `into`. */
export function addPixelChanges(into: PixelChanges, previous: Uint8Array | undefined, next: Uint8Array | undefined): PixelChanges {
  if (previous && next && previous.length !== next.length) throw new Error(`pixel changes: ${previous.length} previous pixels against ${next.length} next ones`);
  const length = previous?.length ?? next?.length ?? 0;
  for (let i = 0; i < length; i++) {
    const before = previous ? previous[i]! : 0;
    const after = next ? next[i]! : 0;
    if (before === after) continue;
    into.changed++;
    if (after !== 0) bump(into.gained, after);
    if (before !== 0) bump(into.lost, before);
  }
  return into;
}

/** Sums several blocks' changes (the run's total). */
export function sumPixelChanges(parts: readonly PixelChanges[]): PixelChanges {
  const total = emptyPixelChanges();
  for (const p of parts) {
    for (const [id, n] of p.gained) bump(total.gained, id, n);
    for (const [id, n] of p.lost) bump(total.lost, id, n);
    total.changed += p.changed;
  }
  return total;
}

/** Hectares per class (keys as strings, sorted by id, rounded to 0.0001 ha), from pixels of `pixelArea` m2. */
export function hectaresOf(pixels: Map<number, number>, pixelArea: number): Record<string, number> {
  return Object.fromEntries([...pixels].sort((a, b) => a[0] - b[0]).map(([id, n]) => [String(id), Math.round((n * pixelArea) / 1e4 * 1e4) / 1e4]));
}
