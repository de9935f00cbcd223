import { iterateWindows, planRefresh, planWindows, RunGeometry, type Block, type DalleFootprint, type RefreshSide } from '@fleet/grid';
import { carriedWindowsBitmap, isReinferred } from './refresh-windows';

/** A 3x3 grid of 1000 px dalles (one block each), patch 512, overlap 128: a change does not reach every window. */
function side(versions: Record<string, string> = {}, missing: string[] = []): RefreshSide {
  const dalles: DalleFootprint[] = [];
  const blocks: Block[] = [];
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < 3; r++) {
      const id = `D-${c}-${r}`;
      if (missing.includes(id)) continue;
      const rect = { x: c * 1000, y: r * 1000, width: 1000, height: 1000 };
      dalles.push({ source: 'stack', uri: `${id}.tif`, version: versions[id] ?? 'v1', rect });
      blocks.push({ id, ...rect });
    }
  }
  return { plan: planWindows(3000, 3000, { patch: 512, overlap: 128 }), blocks, dalles };
}

const bit = (bitmap: Buffer, i: number) => ((bitmap[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

describe('isReinferred', () => {
  it('is every window of a full run', () => {
    expect(isReinferred({}, { x: 0, y: 0, width: 512, height: 512 })).toBe(true);
  });

  it.each([
    ['one dalle changed', side({ 'D-1-1': 'v2' }), side()],
    ['a corner dalle changed', side({ 'D-0-0': 'v2' }), side()],
    ['one changed, one added, one removed', side({ 'D-1-1': 'v2' }, ['D-2-2']), side({}, ['D-0-2'])],
  ])('derives exactly planRefresh\'s windows from the changed pixels and the geometry: %s', (_name, next, previous) => {
    const plan = planRefresh({ previous, next, offset: { x: 0, y: 0 }, everything: false });
    const geometry = new RunGeometry(next.plan, next.blocks, 1);
    const spec = { refresh: { changedPixels: plan.changedPixels } } as Parameters<typeof isReinferred>[0];
    const derived = [...iterateWindows(next.plan)].filter((w) => geometry.feedsABlock(w) && isReinferred(spec, w)).map((w) => w.index);
    expect(derived).toEqual(plan.reinfer);
    // the point of it: fewer windows than a full run
    expect(derived.length).toBeLessThan(geometry.inferableCount);
    expect(derived.length).toBeGreaterThan(0);

    const total = next.plan.colStarts.length * next.plan.rowStarts.length;
    const carried = carriedWindowsBitmap(spec, iterateWindows(next.plan), total, (w) => geometry.feedsABlock(w))!;
    expect(carried.count).toBe(geometry.inferableCount - plan.reinfer.length);
    const reinfer = new Set(plan.reinfer);
    for (const w of iterateWindows(next.plan)) expect(bit(carried.bitmap, w.index)).toBe(geometry.feedsABlock(w) && !reinfer.has(w.index) ? 1 : 0);
  });

  it('carries no window in a full run', () => {
    expect(carriedWindowsBitmap({}, [], 0, () => true)).toBeUndefined();
  });
});
