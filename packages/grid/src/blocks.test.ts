import { BlockIndex } from './block-index';
import { regularBlocks } from './blocks';
import { intersectRects } from './geo-transform';
import { iterateWindows, planWindows } from './window-plan';

describe('regularBlocks', () => {
  it('tiles the mosaic and cuts the last row and column at the edge', () => {
    const blocks = regularBlocks(2500, 1200, 1000);
    expect(blocks.map((b) => [b.id, b.x, b.y, b.width, b.height])).toEqual([
      ['b0-0', 0, 0, 1000, 1000], ['b0-1', 1000, 0, 1000, 1000], ['b0-2', 2000, 0, 500, 1000],
      ['b1-0', 0, 1000, 1000, 200], ['b1-1', 1000, 1000, 1000, 200], ['b1-2', 2000, 1000, 500, 200],
    ]);
  });
});

describe('BlockIndex', () => {
  it('finds the same blocks as a scan, with one to four blocks per window', () => {
    const blocks = regularBlocks(5000, 5000, 1250);
    const index = new BlockIndex(blocks, 700);
    const plan = planWindows(5000, 5000, { patch: 512, overlap: 128 });
    const counts = new Set<number>();
    for (const w of iterateWindows(plan)) {
      const expected = blocks.filter((b) => intersectRects(b, w)).map((b) => b.id);
      const got = index.touching(w);
      expect(got).toEqual(expected);
      counts.add(got.length);
    }
    expect([...counts].sort()).toEqual([1, 2, 4]);
  });
});
