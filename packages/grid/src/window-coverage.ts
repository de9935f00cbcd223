import type { PixelRect } from './geo-transform';
import { intersectingRange } from './axis-ranges';
import { windowAt, type PlannedWindow, type WindowPlan } from './window-plan';

function colWidth(plan: WindowPlan) {
  return (i: number) => Math.min(plan.patch, plan.width - plan.colStarts[i]!);
}
function rowHeight(plan: WindowPlan) {
  return (i: number) => Math.min(plan.patch, plan.height - plan.rowStarts[i]!);
}

/** Windows of the plan that intersect a rectangle of the mosaic, row-major. */
export function windowsIntersecting(plan: WindowPlan, rect: PixelRect): PlannedWindow[] {
  const cols = intersectingRange(plan.colStarts, colWidth(plan), rect.x, rect.x + rect.width);
  const rows = intersectingRange(plan.rowStarts, rowHeight(plan), rect.y, rect.y + rect.height);
  if (!cols || !rows) return [];
  const out: PlannedWindow[] = [];
  for (let r = rows[0]; r <= rows[1]; r++) for (let c = cols[0]; c <= cols[1]; c++) out.push(windowAt(plan, r, c));
  return out;
}

/** Along one axis: [lo, hi) of window i that no other window of the plan covers, in window coordinates. */
function exclusiveSpan(starts: readonly number[], length: number, patch: number, i: number): [number, number] {
  const start = starts[i]!;
  const end = Math.min(start + patch, length);
  const prev = starts[i - 1];
  const next = starts[i + 1];
  const lo = prev === undefined ? start : Math.max(start, Math.min(prev + patch, length));
  const hi = next === undefined ? end : Math.min(end, next);
  return hi > lo ? [lo - start, hi - start] : [0, 0];
}

/**
 * The part of a window that no neighbour covers (window coordinates). There the merged class
 * is simply this window's argmax, so a mask tile needs class probabilities only outside it.
 * Empty (width or height 0) when neighbours overlap the whole window.
 */
export function exclusiveCore(plan: WindowPlan, window: PlannedWindow): PixelRect {
  const [x0, x1] = exclusiveSpan(plan.colStarts, plan.width, plan.patch, window.col);
  const [y0, y1] = exclusiveSpan(plan.rowStarts, plan.height, plan.patch, window.row);
  if (x1 <= x0 || y1 <= y0) return { x: 0, y: 0, width: 0, height: 0 };
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
