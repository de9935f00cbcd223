import { BlockIndex } from './block-index';
import type { Block } from './blocks';
import type { PixelRect } from './geo-transform';
import { intersectingRange } from './axis-ranges';
import { windowsIntersecting } from './window-coverage';
import { windowAt, windowCount, type PlannedWindow, type WindowPlan } from './window-plan';

/** A square of up to side x side neighbouring windows of the window plan: the unit of work. */
export interface WindowGroup {
  /** Group row: windows rows [row * side, row * side + side). */
  readonly row: number;
  readonly col: number;
}

/**
 * Group side for a run of `windows` windows: groups of up to G x G windows, small enough that a
 * small run still spreads over the fleet (about 256 jobs or more), big enough that a
 * département's ~1.7 M windows make ~26 k jobs instead of 1.7 M (README "How it works").
 * The demo's 49 windows stay one-window jobs; a lone dalle's 4,225 windows make groups of 4 x 4.
 */
export function chooseGroupSide(windows: number): number {
  return Math.min(8, Math.max(1, Math.floor(Math.sqrt(windows / 256))));
}

/**
 * One run's geometry, derived from the window plan, the blocks and the group side: which
 * blocks a window feeds, which windows a block needs, the groups and their windows. Pure (no
 * I/O); the coordinator, the workers, the merger and `fleet retry` all ask it, so the loops
 * over windows and blocks exist once. Per-window memory: one byte (the "feeds a block" mark).
 */
export class RunGeometry {
  readonly groupRows: number;
  readonly groupCols: number;
  /** Windows that feed at least one block (the others fall in gaps between dalles). */
  readonly inferableCount: number;
  private readonly index: BlockIndex;
  private readonly feeds: Uint8Array;
  private readonly byId: Map<string, Block>;

  constructor(readonly plan: WindowPlan, readonly blocks: readonly Block[], readonly groupSide: number) {
    if (!Number.isInteger(groupSide) || groupSide < 1) throw new RangeError(`group side must be a positive integer, got ${groupSide}`);
    this.groupRows = Math.ceil(plan.rowStarts.length / groupSide);
    this.groupCols = Math.ceil(plan.colStarts.length / groupSide);
    this.index = new BlockIndex(blocks);
    this.byId = new Map(blocks.map((b) => [b.id, b]));
    // mark every window a block needs: a pass over each block's window range, never a
    // BlockIndex query per window (a département has ~1.7 M windows and ~400 blocks)
    const cols = plan.colStarts.length;
    this.feeds = new Uint8Array(windowCount(plan));
    let inferable = 0;
    for (const block of blocks) {
      const range = this.ranges(block);
      if (!range) continue;
      for (let r = range.rows[0]; r <= range.rows[1]; r++) {
        for (let c = range.cols[0]; c <= range.cols[1]; c++) {
          if (this.feeds[r * cols + c] === 0) inferable++;
          this.feeds[r * cols + c] = 1;
        }
      }
    }
    this.inferableCount = inferable;
  }

  /** Ids of the blocks a window feeds, in the blocks' order (empty for a window in a gap). */
  blocksOf(window: PixelRect): string[] {
    return this.index.touching(window);
  }

  /** Whether a window feeds any block. */
  feedsABlock(window: { index: number }): boolean {
    return this.feeds[window.index] === 1;
  }

  block(id: string): Block | undefined {
    return this.byId.get(id);
  }

  /** Windows a block needs (those intersecting it), row-major. */
  windowsOfBlock(block: Block): PlannedWindow[] {
    return windowsIntersecting(this.plan, block);
  }

  /** Windows intersecting any rectangle of the mosaic (e.g. one output tile row), row-major. */
  windowsIn(rect: PixelRect): PlannedWindow[] {
    return windowsIntersecting(this.plan, rect);
  }

  /** Windows per block: each block's merge countdown starts there. */
  windowsPerBlock(): Map<string, number> {
    return new Map(
      this.blocks.map((b) => {
        const range = this.ranges(b);
        return [b.id, range ? (range.rows[1] - range.rows[0] + 1) * (range.cols[1] - range.cols[0] + 1) : 0];
      }),
    );
  }

  groupOf(window: { row: number; col: number }): WindowGroup {
    return { row: Math.floor(window.row / this.groupSide), col: Math.floor(window.col / this.groupSide) };
  }

  /** The windows of a group that feed a block, row-major. Throws for a group outside the plan. */
  windowsOfGroup(group: WindowGroup): PlannedWindow[] {
    if (!this.hasGroup(group)) throw new RangeError(`group ${group.row}-${group.col} is outside the plan (${this.groupRows} x ${this.groupCols} groups)`);
    const out: PlannedWindow[] = [];
    const r0 = group.row * this.groupSide;
    const c0 = group.col * this.groupSide;
    const r1 = Math.min(r0 + this.groupSide, this.plan.rowStarts.length);
    const c1 = Math.min(c0 + this.groupSide, this.plan.colStarts.length);
    const cols = this.plan.colStarts.length;
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) if (this.feeds[r * cols + c] === 1) out.push(windowAt(this.plan, r, c));
    }
    return out;
  }

  hasGroup(group: WindowGroup): boolean {
    return Number.isInteger(group.row) && Number.isInteger(group.col) && group.row >= 0 && group.col >= 0 && group.row < this.groupRows && group.col < this.groupCols;
  }

  /** Groups with at least one window that feeds a block (the others are never enqueued), row-major. */
  *groups(): Generator<WindowGroup> {
    const cols = this.plan.colStarts.length;
    for (let gr = 0; gr < this.groupRows; gr++) {
      for (let gc = 0; gc < this.groupCols; gc++) {
        const r0 = gr * this.groupSide;
        const c0 = gc * this.groupSide;
        const r1 = Math.min(r0 + this.groupSide, this.plan.rowStarts.length);
        const c1 = Math.min(c0 + this.groupSide, cols);
        let any = false;
        for (let r = r0; r < r1 && !any; r++) for (let c = c0; c < c1 && !any; c++) any = this.feeds[r * cols + c] === 1;
        if (any) yield { row: gr, col: gc };
      }
    }
  }

  private ranges(rect: PixelRect): { rows: [number, number]; cols: [number, number] } | undefined {
    const plan = this.plan;
    const cols = intersectingRange(plan.colStarts, (i) => Math.min(plan.patch, plan.width - plan.colStarts[i]!), rect.x, rect.x + rect.width);
    const rows = intersectingRange(plan.rowStarts, (i) => Math.min(plan.patch, plan.height - plan.rowStarts[i]!), rect.y, rect.y + rect.height);
    return cols && rows ? { rows, cols } : undefined;
  }
}
