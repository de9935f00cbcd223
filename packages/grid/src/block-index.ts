import { intersectRects, type PixelRect } from './geo-transform';
import type { Block } from './blocks';

/**
 * Finds the blocks a window touches without scanning every block for each of a
 * département's ~10^6 windows: blocks are bucketed in a uniform hash grid, and a query
 * only tests the blocks registered in the cells it overlaps.
 */
export class BlockIndex {
  private readonly cells = new Map<string, Block[]>();
  private readonly order = new Map<Block, number>();

  constructor(readonly blocks: readonly Block[], private readonly cellSize = 4096) {
    blocks.forEach((block, i) => this.order.set(block, i));
    for (const block of blocks) {
      this.forCells(block, (key) => {
        const list = this.cells.get(key);
        if (list) list.push(block);
        else this.cells.set(key, [block]);
      });
    }
  }

  /** Ids of the blocks that intersect `rect`, in the blocks' original order. */
  touching(rect: PixelRect): string[] {
    const found = new Set<Block>();
    this.forCells(rect, (key) => {
      for (const block of this.cells.get(key) ?? []) if (intersectRects(block, rect)) found.add(block);
    });
    return [...found].sort((a, b) => this.order.get(a)! - this.order.get(b)!).map((b) => b.id);
  }

  private forCells(rect: PixelRect, visit: (key: string) => void): void {
    const c0 = Math.floor(rect.x / this.cellSize);
    const c1 = Math.floor((rect.x + rect.width - 1) / this.cellSize);
    const r0 = Math.floor(rect.y / this.cellSize);
    const r1 = Math.floor((rect.y + rect.height - 1) / this.cellSize);
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) visit(`${r},${c}`);
  }
}
