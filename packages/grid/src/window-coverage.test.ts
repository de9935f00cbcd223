import { exclusiveCore, windowsIntersecting } from './window-coverage';
import { iterateWindows, planWindows } from './window-plan';

describe('windowsIntersecting', () => {
  const plan = planWindows(2000, 1500, { patch: 512, overlap: 128 });

  it('matches a brute-force scan for many rectangles', () => {
    const all = [...iterateWindows(plan)];
    for (const rect of [
      { x: 0, y: 0, width: 1, height: 1 },
      { x: 383, y: 383, width: 2, height: 2 },
      { x: 500, y: 700, width: 800, height: 300 },
      { x: 1999, y: 1499, width: 1, height: 1 },
      { x: 0, y: 0, width: 2000, height: 1500 },
    ]) {
      const brute = all
        .filter((w) => w.x < rect.x + rect.width && rect.x < w.x + w.width && w.y < rect.y + rect.height && rect.y < w.y + w.height)
        .map((w) => w.id);
      expect(windowsIntersecting(plan, rect).map((w) => w.id)).toEqual(brute);
    }
  });
});

describe('exclusiveCore', () => {
  it('is exactly the set of pixels covered by one window only', () => {
    for (const [w, h] of [[2000, 1500], [1300, 520], [400, 300], [900, 900]] as const) {
      const plan = planWindows(w, h, { patch: 512, overlap: 128 });
      const count = new Uint8Array(w * h);
      const windows = [...iterateWindows(plan)];
      for (const win of windows) {
        for (let y = win.y; y < win.y + win.height; y++) for (let x = win.x; x < win.x + win.width; x++) count[y * w + x]!++;
      }
      // one expect per window (not per pixel): jest's expect is far too slow for millions of calls
      for (const win of windows) {
        const core = exclusiveCore(plan, win);
        const wrong: Array<[number, number]> = [];
        for (let y = 0; y < win.height; y++) {
          for (let x = 0; x < win.width; x++) {
            const inCore = x >= core.x && x < core.x + core.width && y >= core.y && y < core.y + core.height;
            if (inCore !== (count[(win.y + y) * w + win.x + x] === 1)) wrong.push([x, y]);
          }
        }
        expect([win.id, wrong.slice(0, 5)]).toEqual([win.id, []]);
      }
    }
  });

  it('is the middle of an interior window', () => {
    const plan = planWindows(2000, 2000, { patch: 512, overlap: 128 });
    const win = [...iterateWindows(plan)].find((x) => x.id === 'r1-c1')!;
    expect(exclusiveCore(plan, win)).toEqual({ x: 128, y: 128, width: 256, height: 256 });
  });
});
