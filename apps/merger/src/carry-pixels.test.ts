import { BlendAccumulator, WeightTable } from '@fleet/blend';
import { intersectRects, iterateWindows, planRefresh, planWindows, type Block, type DalleFootprint, type PixelRect, type PlannedWindow } from '@fleet/grid';
import { isReinferred } from '@fleet/jobs';
import { carryUnchangedPixels } from './carry-pixels';

const CLASSES = [1, 2, 3];
// small windows over small dalles, so that one dalle's change is far from most windows
const DALLE = 200;
const SIZE = 3 * DALLE;
const plan = planWindows(SIZE, SIZE, { patch: 64, overlap: 16 });
const weights = new WeightTable(16);

/** A window's tile from a model seeing `night`'s inputs: classes and confidences disagree between overlapping windows, so the blend decides. */
function tile(w: PlannedWindow, night: string) {
  let seed = w.index * 7919 + (night === 'new' ? 104729 : 1);
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16);
  const n = w.width * w.height;
  const argmax = new Uint8Array(n);
  const probs = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    argmax[i] = 1 + (next() % 3);
    probs[i] = 1 + (next() % 255);
  }
  return { width: w.width, height: w.height, argmax, softIds: [argmax], softProbs: [probs] };
}

/** The block blended from the given windows' tiles (what mergeBlock does tile by tile). */
function blend(block: Block, windows: Array<{ w: PlannedWindow; t: ReturnType<typeof tile> }>): Uint8Array {
  const acc = new BlendAccumulator(block.width, block.height, CLASSES);
  for (const { w, t } of windows) {
    if (!intersectRects(w, block)) continue;
    acc.add({ ...t, weightsX: weights.get(t.width), weightsY: weights.get(t.height), offsetX: w.x - block.x, offsetY: w.y - block.y });
  }
  return acc.resolve();
}

describe('carryUnchangedPixels', () => {
  it('a block half copied from the previous night and half blended from re-inferred windows equals the block blended from every window', () => {
    // 3x3 dalles; the centre one is re-delivered with new pixels
    const dalles = (version: string): DalleFootprint[] =>
      [0, 1, 2].flatMap((c) => [0, 1, 2].map((r) => ({ source: 'stack', uri: `D-${c}-${r}.tif`, version: c === 1 && r === 1 ? version : 'v1', rect: { x: c * DALLE, y: r * DALLE, width: DALLE, height: DALLE } })));
    const blocks: Block[] = [{ id: 'B', x: 0, y: 0, width: SIZE, height: SIZE }];
    const refresh = planRefresh({ previous: { plan, blocks, dalles: dalles('v1') }, next: { plan, blocks, dalles: dalles('v2') }, offset: { x: 0, y: 0 }, everything: false });
    const centre: PixelRect = { x: DALLE, y: DALLE, width: DALLE, height: DALLE };
    const windows = [...iterateWindows(plan)];
    // a window's tile changes when its inputs do (it sees the centre dalle)
    const tonight = (w: PlannedWindow) => tile(w, intersectRects(w, centre) ? 'new' : 'old');
    const block = blocks[0]!;

    const previous = blend(block, windows.map((w) => ({ w, t: tile(w, 'old') })));
    const fresh = blend(block, windows.map((w) => ({ w, t: tonight(w) })));
    const spec = { refresh: { changedPixels: refresh.changedPixels } } as Parameters<typeof isReinferred>[0];
    const reinferred = windows.filter((w) => isReinferred(spec, w));
    expect(reinferred.length).toBeLessThan(windows.length);
    const incremental = blend(block, reinferred.map((w) => ({ w, t: tonight(w) })));
    carryUnchangedPixels(incremental, block, previous, block, refresh.changedPixels);

    // the test means something: the change moved pixels, and some were copied
    expect(Buffer.compare(Buffer.from(previous), Buffer.from(fresh))).not.toBe(0);
    const outside = refresh.changedPixels.reduce((n, r) => n + r.width * r.height, 0);
    expect(outside).toBeLessThan(SIZE * SIZE);
    expect(Buffer.from(incremental).equals(Buffer.from(fresh))).toBe(true);
  });

  it('copies into a region (an output tile) at its place in the block', () => {
    const block: Block = { id: 'B', x: 100, y: 200, width: 4, height: 3 };
    const previous = Uint8Array.from({ length: 12 }, (_, i) => 10 + i);
    const rect = { x: 102, y: 201, width: 2, height: 2 };
    const classes = new Uint8Array(4).fill(99);
    carryUnchangedPixels(classes, rect, previous, block, [{ x: 103, y: 202, width: 5, height: 5 }]);
    // block pixels (2,1) (3,1) (2,2) are copied; (3,2) is changed and keeps tonight's blend
    expect([...classes]).toEqual([16, 17, 20, 99]);
  });
});
