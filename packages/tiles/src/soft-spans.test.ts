import { forEachSoftRun } from './mask-tile-codec';
import { softSpans } from './soft-spans';

/** The plane offsets of every soft pixel, in order, from a list of [from, length] pairs. */
function pixels(pairs: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < pairs.length; i += 2) for (let p = pairs[i]!; p < pairs[i]! + pairs[i + 1]!; p++) out.push(p);
  return out;
}

describe('softSpans', () => {
  it('covers the same pixels in the same order as forEachSoftRun, for cores anywhere (edges, corners, empty, whole)', () => {
    const width = 7;
    const height = 5;
    let shapes = 0;
    for (let x = 0; x <= width; x++) for (let y = 0; y <= height; y++) for (let w = 0; x + w <= width; w++) for (let h = 0; y + h <= height; h++) {
      const tile = { width, height, core: { x, y, width: w, height: h } };
      const runs: number[] = [];
      forEachSoftRun(tile, (from, length) => runs.push(from, length));
      expect({ core: tile.core, pixels: pixels(softSpans(tile)) }).toEqual({ core: tile.core, pixels: pixels(runs) });
      shapes++;
    }
    expect(shapes).toBeGreaterThan(500);
  });

  it('merges the right run of a core row with the left run of the next: core height + 1 spans', () => {
    const spans = softSpans({ width: 8, height: 6, core: { x: 2, y: 1, width: 4, height: 3 } });
    // rows 0 and 1's left run; 1's right and 2's left; 2's right and 3's left; 3's right and rows 4-5
    expect([...spans]).toEqual([0, 10, 14, 4, 22, 4, 30, 18]);
  });

  it('has no empty spans and nothing at all for a tile that is all core', () => {
    expect([...softSpans({ width: 4, height: 4, core: { x: 0, y: 0, width: 4, height: 4 } })]).toEqual([]);
    const spans = softSpans({ width: 4, height: 4, core: { x: 0, y: 1, width: 4, height: 2 } });
    expect([...spans]).toEqual([0, 4, 12, 4]);
  });
});
