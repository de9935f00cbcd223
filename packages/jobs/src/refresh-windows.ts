import { intersectRects, type PixelRect } from '@fleet/grid';
import type { RunSpec } from './run-spec';

/**
 * Whether a refresh run infers this window (pure). A full run (no `refresh`) infers every
 * window; a refresh infers exactly the windows meeting its changed pixels: the same rule as
 * planRefresh's `reinfer`, derived here from the spec so that the coordinator, the workers
 * and the merger agree without a list of window indices travelling between them. Windows
 * feeding no block are never inferred in either case (the caller's geometry says which).
 */
export function isReinferred(spec: Pick<RunSpec, 'refresh'>, window: PixelRect): boolean {
  const changed = spec.refresh?.changedPixels;
  if (!changed) return true;
  for (const rect of changed) if (intersectRects(rect, window)) return true;
  return false;
}

/**
 * The run's done bitmap at creation (Redis bit order: bit i is byte i >> 3, most significant
 * bit first): the windows feeding a block that a refresh does not infer again count as done
 * from the start. Undefined for a full run. `feeds` says whether a window feeds a block.
 */
export function carriedWindowsBitmap(
  spec: Pick<RunSpec, 'refresh'>,
  windows: Iterable<PixelRect & { index: number }>,
  total: number,
  feeds: (window: { index: number }) => boolean,
): { bitmap: Buffer; count: number } | undefined {
  if (!spec.refresh) return undefined;
  const bitmap = Buffer.alloc(Math.ceil(total / 8));
  let count = 0;
  for (const w of windows) {
    if (!feeds(w) || isReinferred(spec, w)) continue;
    bitmap[w.index >> 3]! |= 0x80 >> (w.index & 7);
    count++;
  }
  return { bitmap, count };
}
