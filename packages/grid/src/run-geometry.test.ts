import type { Block } from './blocks';
import { regularBlocks } from './blocks';
import { intersectRects } from './geo-transform';
import { chooseGroupSide, RunGeometry } from './run-geometry';
import { iterateWindows, planWindows } from './window-plan';

describe('chooseGroupSide', () => {
  it('keeps small runs in one-window jobs and caps groups at 8 x 8', () => {
    expect(chooseGroupSide(49)).toBe(1);
    expect(chooseGroupSide(1023)).toBe(1);
    expect(chooseGroupSide(4225)).toBe(4);
    expect(chooseGroupSide(1_695_204)).toBe(8);
  });
});

describe('RunGeometry', () => {
  // two blocks with a gap between them: windows in the gap feed nothing
  const plan = planWindows(3000, 1400, { patch: 512, overlap: 128 });
  const blocks: Block[] = [
    { id: 'west', x: 0, y: 0, width: 1000, height: 1400 },
    { id: 'east', x: 2000, y: 0, width: 1000, height: 1400 },
  ];
  const all = [...iterateWindows(plan)];
  const brute = (w: (typeof all)[number]) => blocks.filter((b) => intersectRects(b, w)).map((b) => b.id);

  it('answers which blocks a window feeds and which windows a block needs, like a scan', () => {
    const g = new RunGeometry(plan, blocks, 2);
    for (const w of all) {
      expect([w.id, g.blocksOf(w)]).toEqual([w.id, brute(w)]);
      expect([w.id, g.feedsABlock(w)]).toEqual([w.id, brute(w).length > 0]);
    }
    for (const b of blocks) {
      const need = all.filter((w) => intersectRects(b, w)).map((w) => w.id);
      expect(g.windowsOfBlock(b).map((w) => w.id)).toEqual(need);
      expect(g.windowsPerBlock().get(b.id)).toBe(need.length);
    }
    expect(g.inferableCount).toBe(all.filter((w) => brute(w).length > 0).length);
    expect(g.inferableCount).toBeLessThan(all.length);
  });

  it('partitions the inferable windows into groups, each window in the group groupOf names', () => {
    for (const side of [1, 2, 3, 8]) {
      const g = new RunGeometry(plan, blocks, side);
      const seen = new Map<string, string>();
      for (const group of g.groups()) {
        const windows = g.windowsOfGroup(group);
        expect(windows.length).toBeGreaterThan(0);
        expect(windows.length).toBeLessThanOrEqual(side * side);
        for (const w of windows) {
          expect(g.groupOf(w)).toEqual(group);
          expect(seen.has(w.id)).toBe(false);
          seen.set(w.id, `${group.row}-${group.col}`);
        }
      }
      expect([...seen.keys()].sort()).toEqual(all.filter((w) => brute(w).length > 0).map((w) => w.id).sort());
    }
  });

  it('leaves out groups whose windows all fall in a gap', () => {
    // columns of 512-px windows at step 384: window col 3 (x 1152..1664) lies in the gap
    const g = new RunGeometry(plan, blocks, 1);
    const groups = [...g.groups()];
    expect(groups.some((x) => x.col === 3)).toBe(false);
    expect(groups).toHaveLength(g.inferableCount);
    expect(g.windowsOfGroup({ row: 0, col: 3 })).toEqual([]);
  });

  it('refuses groups outside the plan and bad sides', () => {
    const g = new RunGeometry(plan, blocks, 4);
    expect(g.groupRows).toBe(1);
    expect(g.groupCols).toBe(2);
    expect(g.hasGroup({ row: 1, col: 0 })).toBe(false);
    expect(() => g.windowsOfGroup({ row: 0, col: 2 })).toThrow(/outside the plan/);
    expect(() => new RunGeometry(plan, blocks, 0)).toThrow(/group side/);
  });

  it('counts a département-sized plan without a query per window', () => {
    const big = planWindows(500_000, 500_000, { patch: 512, overlap: 128 });
    const g = new RunGeometry(big, regularBlocks(500_000, 500_000, 25_000), 8);
    expect(g.inferableCount).toBe(big.colStarts.length * big.rowStarts.length);
    expect([...g.windowsPerBlock().values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(g.inferableCount);
    let groups = 0;
    for (const _ of g.groups()) groups++;
    expect(groups).toBe(g.groupRows * g.groupCols);
  });
});
