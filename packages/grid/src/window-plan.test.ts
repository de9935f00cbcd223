import { axisStarts, iterateWindows, planWindows, windowAt, windowCount } from './window-plan';

describe('axisStarts', () => {
  it('steps by patch - overlap and snaps the last window to the edge', () => {
    expect(axisStarts(1280, 512, 128)).toEqual([0, 384, 768]);
    expect(axisStarts(1300, 512, 128)).toEqual([0, 384, 768, 788]);
  });

  it('gives one window when the axis is not longer than a patch', () => {
    expect(axisStarts(512, 512, 128)).toEqual([0]);
    expect(axisStarts(37, 512, 128)).toEqual([0]);
  });

  it('covers every pixel exactly up to the edge for many lengths', () => {
    for (let length = 1; length < 3000; length += 7) {
      const starts = axisStarts(length, 512, 128);
      const covered = new Uint8Array(length);
      for (const s of starts) for (let i = s; i < Math.min(s + 512, length); i++) covered[i] = 1;
      expect(covered.every((v) => v === 1)).toBe(true);
      expect(Math.min(starts[starts.length - 1]! + 512, length)).toBe(length);
      // neighbours overlap by at least `overlap` (the snapped last one by more)
      for (let i = 1; i < starts.length; i++) {
        expect(starts[i - 1]! + 512 - starts[i]!).toBeGreaterThanOrEqual(128);
      }
    }
  });

  it('rejects impossible options', () => {
    expect(() => axisStarts(100, 512, 512)).toThrow(/overlap/);
    expect(() => axisStarts(0, 512, 128)).toThrow(/axis length/);
    expect(() => axisStarts(100, 0, 0)).toThrow(/patch/);
  });
});

describe('planWindows', () => {
  it('derives windows with ids, indices and clipped sizes', () => {
    const plan = planWindows(1300, 300, { patch: 512, overlap: 128 });
    expect(windowCount(plan)).toBe(4);
    expect(windowAt(plan, 0, 3)).toEqual({ row: 0, col: 3, id: 'r0-c3', index: 3, x: 788, y: 0, width: 512, height: 300 });
    expect([...iterateWindows(plan)].map((w) => w.id)).toEqual(['r0-c0', 'r0-c1', 'r0-c2', 'r0-c3']);
    expect(() => windowAt(plan, 1, 0)).toThrow(/outside/);
  });
});
