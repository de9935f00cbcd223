import type { Block } from './blocks';
import { intersectRects, type PixelRect } from './geo-transform';
import { intersectingRange } from './axis-ranges';
import { RunGeometry } from './run-geometry';
import type { WindowPlan } from './window-plan';

/** One input dalle of one source, as the refresh compares them. */
export interface DalleFootprint {
  /** The source it belongs to (rgb, irc, elevation, dsm, dtm, stack). */
  readonly source: string;
  /** Its key in the source: the same key in two runs is the same dalle. */
  readonly uri: string;
  /** Its version (S3 ETag, size-mtime, sha256): a different version is a changed dalle. */
  readonly version: string;
  /**
   * The mosaic pixels it can influence, in the pixel frame of the run it belongs to. For a
   * DSM/DTM sampled bilinearly, the caller widens its footprint by one of its own pixels.
   */
  readonly rect: PixelRect;
}

/** What a run is compared on: its window plan, its blocks and its input dalles. */
export interface RefreshSide {
  readonly plan: WindowPlan;
  readonly blocks: readonly Block[];
  readonly dalles: readonly DalleFootprint[];
}

export interface RefreshPlanInput {
  /** The last published run of the same output. */
  readonly previous: RefreshSide;
  /** The run being planned. */
  readonly next: RefreshSide;
  /**
   * Where the previous run's mosaic pixel (0, 0) lies in the next run's mosaic pixels (both
   * mosaics are on the same 20 cm grid, so it is whole pixels; a dalle added on the west or
   * north makes it positive).
   */
  readonly offset: { readonly x: number; readonly y: number };
  /**
   * Everything is recomputed: the model's bytes, the pixel size, the patch, overlap, top-k or
   * block layout changed, so no previous pixel can be trusted.
   */
  readonly everything: boolean;
}

export interface DalleChanges {
  readonly changed: DalleFootprint[];
  readonly added: DalleFootprint[];
  readonly removed: DalleFootprint[];
}

export interface RefreshPlan {
  /** Dalles whose version differs, new dalles, dalles gone (rects in each one's own run's frame). */
  readonly dalles: DalleChanges;
  /**
   * Pixels whose class may differ from the previous run's, in the next run's mosaic pixels, as
   * a union of rectangles (they may overlap). Empty: nothing changed.
   */
  readonly changedPixels: PixelRect[];
  /** Row-major indices (next plan) of the windows to infer again: every window meeting changedPixels and feeding a block. */
  readonly reinfer: number[];
  /** Blocks meeting changedPixels, with how many re-inferred windows each waits for before it merges. */
  readonly remerge: Map<string, number>;
  /** Blocks not meeting changedPixels: the previous run's file is referenced, not rewritten. */
  readonly carried: string[];
}

/**
 * What a refresh recomputes (pure, no I/O). The rule holds whatever the window layout:
 *
 *   changedPixels = footprints of windows new or gone (plan diff by x, y, width, height in a
 *                   common frame) + footprints of windows in both runs that meet a changed,
 *                   added or removed dalle (any source) + blocks new or resized;
 *                   the whole mosaic when `everything`.
 *   re-infer      = every window of the next plan that meets changedPixels (so every window
 *                   covering a changed pixel has a fresh tile: blending there is exact).
 *   re-merge      = blocks meeting changedPixels; inside them, pixels outside changedPixels
 *                   are copied from the previous block (no window covering them changed its
 *                   inputs, so their blend is the same), the others are blended from tiles.
 *
 * Why a window in both runs that meets a changed dalle changes all of its footprint: the model
 * sees the whole window (context), so any of its output pixels may move. Why those pixels need
 * all their windows re-inferred: the blend at a pixel needs every covering window's tile, and
 * the previous run's tiles are not kept.
 *
 * Bound (interior dalle, same layout, overlap <= patch / 2): a changed dalle whose pixels meet
 * window columns c0..c1 and rows r0..r1 re-infers at most (c1 - c0 + 3) x (r1 - r0 + 3)
 * windows: the ones it touches and one ring around them (a window two steps away starts at
 * least 2 x (patch - overlap) >= patch after the last touching one, so it cannot meet it).
 *
 * The plan diff is per axis: a window (x, y, w, h) exists in both runs exactly when its column
 * (x, w) and its row (y, h) both do, so new and gone windows form whole column and row strips,
 * and a département's million windows are never listed one by one.
 */
export function planRefresh(input: RefreshPlanInput): RefreshPlan {
  const { previous, next, offset } = input;
  const dalles = diffDalles(previous.dalles, next.dalles);
  const mosaic: PixelRect = { x: 0, y: 0, width: next.plan.width, height: next.plan.height };
  const geometry = new RunGeometry(next.plan, next.blocks, 1);

  const changed: PixelRect[] = [];
  const seen = new Set<string>();
  const add = (rect: PixelRect | undefined) => {
    const clipped = rect && intersectRects(rect, mosaic);
    const key = clipped && `${clipped.x},${clipped.y},${clipped.width},${clipped.height}`;
    // a changed dalle in place gives the same span twice (its old and new footprint)
    if (clipped && !seen.has(key!)) {
      seen.add(key!);
      changed.push(clipped);
    }
  };
  if (input.everything) {
    add(mosaic);
  } else {
    // windows new or gone: whole column and row strips of the plan that has them
    const cols = diffAxis(previous.plan.colStarts, previous.plan.width, next.plan.colStarts, next.plan.width, previous.plan.patch, next.plan.patch, offset.x);
    const rows = diffAxis(previous.plan.rowStarts, previous.plan.height, next.plan.rowStarts, next.plan.height, previous.plan.patch, next.plan.patch, offset.y);
    for (const [x, w] of cols.added) add({ x, y: 0, width: w, height: next.plan.height });
    for (const [y, h] of rows.added) add({ x: 0, y, width: next.plan.width, height: h });
    for (const [x, w] of cols.gone) add({ x: x + offset.x, y: offset.y, width: w, height: previous.plan.height });
    for (const [y, h] of rows.gone) add({ x: offset.x, y: y + offset.y, width: previous.plan.width, height: h });

    // windows of the next plan meeting a changed dalle: the union of the windows meeting a
    // rectangle is one rectangle (windows along an axis overlap or abut); windows there that
    // are new were counted above, and counting them again changes nothing
    const touched: PixelRect[] = [];
    for (const d of dalles.changed) touched.push(d.rect);
    for (const d of dalles.added) touched.push(d.rect);
    for (const d of [...dalles.changed, ...dalles.removed]) {
      const old = previous.dalles.find((p) => p.source === d.source && p.uri === d.uri)!;
      touched.push({ ...old.rect, x: old.rect.x + offset.x, y: old.rect.y + offset.y });
    }
    for (const rect of touched) add(windowSpan(next.plan, rect));

    // blocks with no previous file of the same footprint have nothing to copy from
    const before = new Map(previous.blocks.map((b) => [b.id, b]));
    for (const block of next.blocks) {
      const old = before.get(block.id);
      if (!old || old.x + offset.x !== block.x || old.y + offset.y !== block.y || old.width !== block.width || old.height !== block.height) add(block);
    }
  }

  const windowTotal = next.plan.colStarts.length * next.plan.rowStarts.length;
  const marked = new Uint8Array(windowTotal);
  const cols = next.plan.colStarts.length;
  for (const rect of changed) {
    const range = windowRange(next.plan, rect);
    if (!range) continue;
    for (let r = range.rows[0]; r <= range.rows[1]; r++) for (let c = range.cols[0]; c <= range.cols[1]; c++) marked[r * cols + c] = 1;
  }
  const reinfer: number[] = [];
  for (let i = 0; i < windowTotal; i++) if (marked[i] === 1 && geometry.feedsABlock({ index: i })) reinfer.push(i);

  const remerge = new Map<string, number>();
  const carried: string[] = [];
  for (const block of next.blocks) {
    if (!changed.some((rect) => intersectRects(rect, block))) {
      carried.push(block.id);
      continue;
    }
    let waits = 0;
    for (const w of geometry.windowsOfBlock(block)) waits += marked[w.index]!;
    remerge.set(block.id, waits);
  }
  return { dalles, changedPixels: changed, reinfer, remerge, carried };
}

/** Changed (same source and key, another version), added and removed dalles. */
export function diffDalles(previous: readonly DalleFootprint[], next: readonly DalleFootprint[]): DalleChanges {
  const key = (d: DalleFootprint) => `${d.source}\0${d.uri}`;
  const before = new Map(previous.map((d) => [key(d), d]));
  const after = new Set(next.map(key));
  const changed: DalleFootprint[] = [];
  const added: DalleFootprint[] = [];
  for (const d of next) {
    const old = before.get(key(d));
    if (!old) added.push(d);
    else if (old.version !== d.version || old.rect.width !== d.rect.width || old.rect.height !== d.rect.height) changed.push(d);
  }
  const removed = previous.filter((d) => !after.has(key(d)));
  return { changed, added, removed };
}

/**
 * Along one axis, the windows (start, size) of the next plan with no equal window in the
 * previous one (`added`, next frame) and the reverse (`gone`, previous frame).
 */
function diffAxis(
  prevStarts: readonly number[], prevLength: number, nextStarts: readonly number[], nextLength: number,
  prevPatch: number, nextPatch: number, offset: number,
): { added: [number, number][]; gone: [number, number][] } {
  const prev = prevStarts.map((s) => [s, Math.min(prevPatch, prevLength - s)] as [number, number]);
  const next = nextStarts.map((s) => [s, Math.min(nextPatch, nextLength - s)] as [number, number]);
  const inNext = new Set(next.map(([s, w]) => `${s},${w}`));
  const inPrev = new Set(prev.map(([s, w]) => `${s + offset},${w}`));
  return {
    added: next.filter(([s, w]) => !inPrev.has(`${s},${w}`)),
    gone: prev.filter(([s, w]) => !inNext.has(`${s + offset},${w}`)),
  };
}

function windowRange(plan: WindowPlan, rect: PixelRect): { rows: [number, number]; cols: [number, number] } | undefined {
  const cols = intersectingRange(plan.colStarts, (i) => Math.min(plan.patch, plan.width - plan.colStarts[i]!), rect.x, rect.x + rect.width);
  const rows = intersectingRange(plan.rowStarts, (i) => Math.min(plan.patch, plan.height - plan.rowStarts[i]!), rect.y, rect.y + rect.height);
  return cols && rows ? { rows, cols } : undefined;
}

/** The union of the footprints of the plan's windows meeting `rect` (one rectangle), or undefined. */
function windowSpan(plan: WindowPlan, rect: PixelRect): PixelRect | undefined {
  const range = windowRange(plan, rect);
  if (!range) return undefined;
  const x0 = plan.colStarts[range.cols[0]]!;
  const x1 = Math.min(plan.colStarts[range.cols[1]]! + plan.patch, plan.width);
  const y0 = plan.rowStarts[range.rows[0]]!;
  const y1 = Math.min(plan.rowStarts[range.rows[1]]! + plan.patch, plan.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
