import type { PixelRect } from './geo-transform';

/** How a mosaic is cut into model windows. */
export interface WindowPlanOptions {
  /** Window side in pixels, the model's patch. Default 512. */
  patch: number;
  /** Pixels shared by two neighbouring windows along each axis. Default 128 (see README). */
  overlap: number;
}

/** One model window: row/column in the window grid and its rectangle in mosaic pixels. */
export interface PlannedWindow extends PixelRect {
  readonly row: number;
  readonly col: number;
  /** Stable id, unique within a run: "r{row}-c{col}". */
  readonly id: string;
  /** Row-major index, for bitmaps: row * cols + col. */
  readonly index: number;
}

/**
 * The window grid of a mosaic. Starts are stored per axis only, so a département's
 * ~10^6 windows never sit in memory as objects: windows are derived on demand.
 */
export interface WindowPlan {
  readonly width: number;
  readonly height: number;
  readonly patch: number;
  readonly overlap: number;
  /** Left edges of the window columns, ascending. */
  readonly colStarts: readonly number[];
  /** Top edges of the window rows, ascending. */
  readonly rowStarts: readonly number[];
}

/**
 * Window starts along one axis of `length` pixels: a regular step of patch - overlap from 0,
 * with the last window snapped inside the mosaic so that it ends exactly on the edge (it then
 * overlaps its neighbour by more than `overlap`). An axis shorter than a patch gets a single
 * window starting at 0 (the worker pads it to the patch size).
 */
export function axisStarts(length: number, patch: number, overlap: number): number[] {
  if (!Number.isInteger(length) || length <= 0) throw new RangeError(`axis length must be a positive integer, got ${length}`);
  if (!Number.isInteger(patch) || patch <= 0) throw new RangeError(`patch must be a positive integer, got ${patch}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= patch) {
    throw new RangeError(`overlap must be an integer in [0, ${patch - 1}], got ${overlap}`);
  }
  if (length <= patch) return [0];
  const step = patch - overlap;
  const starts: number[] = [];
  for (let s = 0; s + patch < length; s += step) starts.push(s);
  starts.push(length - patch);
  return starts;
}

export function planWindows(width: number, height: number, options: WindowPlanOptions): WindowPlan {
  return {
    width,
    height,
    patch: options.patch,
    overlap: options.overlap,
    colStarts: axisStarts(width, options.patch, options.overlap),
    rowStarts: axisStarts(height, options.patch, options.overlap),
  };
}

export function windowCount(plan: WindowPlan): number {
  return plan.colStarts.length * plan.rowStarts.length;
}

export function windowAt(plan: WindowPlan, row: number, col: number): PlannedWindow {
  const y = plan.rowStarts[row];
  const x = plan.colStarts[col];
  if (x === undefined || y === undefined) throw new RangeError(`window r${row}-c${col} is outside the plan`);
  return {
    row,
    col,
    id: windowId(row, col),
    index: row * plan.colStarts.length + col,
    x,
    y,
    width: Math.min(plan.patch, plan.width - x),
    height: Math.min(plan.patch, plan.height - y),
  };
}

export function windowId(row: number, col: number): string {
  return `r${row}-c${col}`;
}

/** All windows in row-major order, lazily. */
export function* iterateWindows(plan: WindowPlan): Generator<PlannedWindow> {
  for (let row = 0; row < plan.rowStarts.length; row++) {
    for (let col = 0; col < plan.colStarts.length; col++) yield windowAt(plan, row, col);
  }
}
