import type { Block } from './blocks';
import { intersectRects, type PixelRect } from './geo-transform';
import { planRefresh, type DalleFootprint, type RefreshPlanInput, type RefreshSide } from './refresh-plan';
import { iterateWindows, planWindows, windowsIntersecting } from './index';

/** A grid of square dalles (one block each, ids D-col-row) with some missing, like the fixtures' mosaics. */
function side(cols: number, rows: number, dalle: number, patch: number, overlap: number, options: { missing?: string[]; versions?: Record<string, string>; firstCol?: number } = {}): RefreshSide {
  const dalles: DalleFootprint[] = [];
  const blocks: Block[] = [];
  const firstCol = options.firstCol ?? 0;
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      const id = `D-${c + firstCol}-${r}`;
      if (options.missing?.includes(id)) continue;
      const rect = { x: c * dalle, y: r * dalle, width: dalle, height: dalle };
      dalles.push({ source: 'stack', uri: `${id}.tif`, version: options.versions?.[id] ?? 'v1', rect });
      blocks.push({ id, ...rect });
    }
  }
  return { plan: planWindows(cols * dalle, rows * dalle, { patch, overlap }), blocks, dalles };
}

/**
 * The rule of planRefresh's TSDoc applied the slow way: every window of both plans listed,
 * compared by (x, y, w, h), footprints painted pixel by pixel. planRefresh must give the same
 * pixels, windows and blocks.
 */
function bruteForce(input: RefreshPlanInput) {
  const { previous, next, offset } = input;
  const W = next.plan.width;
  const H = next.plan.height;
  const mask = new Uint8Array(W * H);
  const paint = (rect: PixelRect) => {
    const r = intersectRects(rect, { x: 0, y: 0, width: W, height: H });
    if (!r) return;
    for (let y = r.y; y < r.y + r.height; y++) mask.fill(1, y * W + r.x, y * W + r.x + r.width);
  };
  const key = (r: PixelRect) => `${r.x},${r.y},${r.width},${r.height}`;
  const moved = (r: PixelRect) => ({ ...r, x: r.x + offset.x, y: r.y + offset.y });
  const prevWindows = [...iterateWindows(previous.plan)].map(moved);
  const nextWindows = [...iterateWindows(next.plan)];
  if (input.everything) paint({ x: 0, y: 0, width: W, height: H });
  else {
    const inPrev = new Set(prevWindows.map(key));
    const inNext = new Set(nextWindows.map(key));
    for (const w of nextWindows) if (!inPrev.has(key(w))) paint(w);
    for (const w of prevWindows) if (!inNext.has(key(w))) paint(w);
    const id = (d: DalleFootprint) => `${d.source}/${d.uri}`;
    const prevDalles = new Map(previous.dalles.map((d) => [id(d), d]));
    const nextDalles = new Map(next.dalles.map((d) => [id(d), d]));
    const touched: PixelRect[] = [];
    for (const d of next.dalles) {
      const old = prevDalles.get(id(d));
      if (!old) touched.push(d.rect);
      else if (old.version !== d.version) touched.push(d.rect, moved(old.rect));
    }
    for (const d of previous.dalles) if (!nextDalles.has(id(d))) touched.push(moved(d.rect));
    for (const w of nextWindows) if (inPrev.has(key(w)) && touched.some((t) => intersectRects(t, w))) paint(w);
    const prevBlocks = new Set(previous.blocks.map((b) => `${b.id}@${key(moved(b))}`));
    for (const b of next.blocks) if (!prevBlocks.has(`${b.id}@${key(b)}`)) paint(b);
  }
  const meets = (rect: PixelRect) => {
    for (let y = rect.y; y < rect.y + rect.height; y++) for (let x = rect.x; x < rect.x + rect.width; x++) if (mask[y * W + x]) return true;
    return false;
  };
  const feeds = (w: PixelRect) => next.blocks.some((b) => intersectRects(b, w));
  const reinfer = nextWindows.filter((w) => feeds(w) && meets(w)).map((w) => w.index);
  const remerge = new Map<string, number>();
  for (const b of next.blocks) {
    if (meets(b)) remerge.set(b.id, windowsIntersecting(next.plan, b).filter((w) => reinfer.includes(w.index)).length);
  }
  return { mask, reinfer, remerge, carried: next.blocks.filter((b) => !remerge.has(b.id)).map((b) => b.id) };
}

function maskOf(rects: PixelRect[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const r of rects) for (let y = r.y; y < r.y + r.height; y++) mask.fill(1, y * width + r.x, y * width + r.x + r.width);
  return mask;
}

function expectSameAsBruteForce(input: RefreshPlanInput) {
  const plan = planRefresh(input);
  const reference = bruteForce(input);
  const mask = maskOf(plan.changedPixels, input.next.plan.width, input.next.plan.height);
  expect(Buffer.compare(Buffer.from(mask), Buffer.from(reference.mask))).toBe(0);
  expect(plan.reinfer).toEqual(reference.reinfer);
  expect([...plan.remerge]).toEqual([...reference.remerge]);
  expect(plan.carried).toEqual(reference.carried);
  return plan;
}

describe('planRefresh: the rule, checked pixel by pixel against a brute-force reading of it (3x3 dalles of 300 px, patch 128, overlap 32)', () => {
  const grid = (options: Parameters<typeof side>[5] = {}, cols = 3) => side(cols, 3, 300, 128, 32, options);

  it('nothing changed: no pixel, no window, every block carried over', () => {
    const plan = expectSameAsBruteForce({ previous: grid(), next: grid(), offset: { x: 0, y: 0 }, everything: false });
    expect(plan.changedPixels).toEqual([]);
    expect(plan.reinfer).toEqual([]);
    expect(plan.carried).toHaveLength(9);
    expect(plan.dalles).toEqual({ changed: [], added: [], removed: [] });
  });

  it('night 2: one dalle re-delivered, one added, one removed (same extent)', () => {
    const previous = grid({ missing: ['D-2-2'] });
    const next = grid({ missing: ['D-1-0'], versions: { 'D-0-0': 'v2' } });
    const plan = expectSameAsBruteForce({ previous, next, offset: { x: 0, y: 0 }, everything: false });
    expect(plan.dalles.changed.map((d) => d.uri)).toEqual(['D-0-0.tif']);
    expect(plan.dalles.added.map((d) => d.uri)).toEqual(['D-2-2.tif']);
    expect(plan.dalles.removed.map((d) => d.uri)).toEqual(['D-1-0.tif']);
    expect(plan.remerge.has('D-2-2')).toBe(true);
    expect(plan.remerge.has('D-1-0')).toBe(false);
  });

  it('a dalle of another source (elevation) changed: its windows are re-inferred like an image dalle', () => {
    const previous = grid();
    const next = grid();
    const elevation = (version: string): DalleFootprint => ({ source: 'elevation', uri: 'E-1-1.tif', version, rect: { x: 300, y: 300, width: 300, height: 300 } });
    const plan = expectSameAsBruteForce({
      previous: { ...previous, dalles: [...previous.dalles, elevation('a')] },
      next: { ...next, dalles: [...next.dalles, elevation('b')] },
      offset: { x: 0, y: 0 },
      everything: false,
    });
    expect(plan.dalles.changed.map((d) => `${d.source}/${d.uri}`)).toEqual(['elevation/E-1-1.tif']);
    expect(plan.reinfer.length).toBeGreaterThan(0);
  });

  it('a column of dalles added on the east: the snapped edge windows move, the rest is kept', () => {
    const plan = expectSameAsBruteForce({ previous: grid(), next: grid({}, 4), offset: { x: 0, y: 0 }, everything: false });
    expect(plan.dalles.added).toHaveLength(3);
    expect(plan.carried).toEqual(expect.arrayContaining(['D-0-0', 'D-0-1', 'D-0-2']));
  });

  it('a column added on the west shifts the lattice (300 px is not a multiple of the 96 px step): every window is new', () => {
    // the new column is the western one (D--1-r): the old dalles keep their ids and versions
    const next = side(4, 3, 300, 128, 32, { firstCol: -1 });
    const plan = expectSameAsBruteForce({ previous: grid(), next, offset: { x: 300, y: 0 }, everything: false });
    expect(plan.dalles.changed).toEqual([]);
    expect(plan.reinfer).toHaveLength(next.plan.colStarts.length * next.plan.rowStarts.length);
    expect(plan.carried).toEqual([]);
  });

  it('the model or the geometry changed: everything', () => {
    const plan = expectSameAsBruteForce({ previous: grid(), next: grid(), offset: { x: 0, y: 0 }, everything: true });
    expect(plan.carried).toEqual([]);
    expect(plan.reinfer).toHaveLength(100);
  });
});

describe('planRefresh: the bound on a 3x3 grid of 1000 px dalles (patch 512, overlap 128: 8 x 8 windows)', () => {
  const grid = (versions: Record<string, string> = {}) => side(3, 3, 1000, 512, 128, { versions });
  const touching = (rect: PixelRect, plan = grid().plan) => windowsIntersecting(plan, rect).map((w) => w.index);

  it('the centre dalle changed: the 4 x 4 windows touching it and one ring, 36 of 64; every block re-merged, outside the change copied', () => {
    const plan = expectSameAsBruteForce({ previous: grid(), next: grid({ 'D-1-1': 'v2' }), offset: { x: 0, y: 0 }, everything: false });
    const touched = touching({ x: 1000, y: 1000, width: 1000, height: 1000 });
    expect(touched).toHaveLength(16);
    // bound: (c1 - c0 + 3) x (r1 - r0 + 3) with 4 columns and rows touched
    expect(plan.reinfer.length).toBeLessThanOrEqual(6 * 6);
    expect(plan.reinfer).toHaveLength(36);
    expect(plan.reinfer).toEqual(expect.arrayContaining(touched));
    // columns 1..6 (x 384..2304) of 0..7: the outer ring of windows is not re-inferred
    expect(plan.reinfer.every((i) => i % 8 >= 1 && i % 8 <= 6 && Math.floor(i / 8) >= 1 && Math.floor(i / 8) <= 6)).toBe(true);
    // the changed pixels are the windows touching the dalle: x, y in [768, 2432)
    expect(plan.changedPixels).toEqual([{ x: 768, y: 768, width: 1664, height: 1664 }]);
    expect(plan.remerge.size).toBe(9);
    expect(plan.remerge.get('D-1-1')).toBe(16);
  });

  it('a corner dalle changed: 16 of 64 windows, 4 blocks re-merged, 5 carried over', () => {
    const plan = expectSameAsBruteForce({ previous: grid(), next: grid({ 'D-0-0': 'v2' }), offset: { x: 0, y: 0 }, everything: false });
    expect(touching({ x: 0, y: 0, width: 1000, height: 1000 })).toHaveLength(9);
    expect(plan.reinfer).toHaveLength(16);
    expect([...plan.remerge.keys()]).toEqual(['D-0-0', 'D-0-1', 'D-1-0', 'D-1-1']);
    expect(plan.carried).toEqual(['D-0-2', 'D-1-2', 'D-2-0', 'D-2-1', 'D-2-2']);
  });
});

describe('planRefresh at département scale (20 x 20 dalles of 25,000 px: 1,695,204 windows)', () => {
  it('one interior dalle re-delivered re-infers the 67 x 67 windows touching it and one ring: 69 x 69; 9 blocks re-merged', () => {
    const d = side(20, 20, 25_000, 512, 128);
    const next = { ...d, dalles: d.dalles.map((x) => (x.uri === 'D-9-9.tif' ? { ...x, version: 'v2' } : x)) };
    const plan = planRefresh({ previous: d, next, offset: { x: 0, y: 0 }, everything: false });
    expect(d.plan.colStarts.length * d.plan.rowStarts.length).toBe(1_695_204);
    expect(windowsIntersecting(d.plan, { x: 9 * 25_000, y: 9 * 25_000, width: 25_000, height: 25_000 })).toHaveLength(67 * 67);
    expect(plan.reinfer).toHaveLength(69 * 69);
    expect([plan.remerge.size, plan.carried.length]).toEqual([9, 391]);
  });
});
