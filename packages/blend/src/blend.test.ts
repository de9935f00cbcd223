import { BlendAccumulator, type WindowContribution } from './blend-accumulator';
import { axisWeights, DEFAULT_WINDOW_WEIGHTING, gaussianAxisWeights, WeightTable, windowAxisWeights, type WindowWeighting } from './window-weights';

describe('axisWeights', () => {
  it('is 1 in the middle, falls towards both edges and never reaches 0', () => {
    const w = axisWeights(512, 128);
    expect(w[256]).toBe(1);
    expect(w[128]).toBe(1);
    expect(w[0]).toBeGreaterThan(0);
    expect(w[0]).toBeLessThan(0.001);
    expect(w[511]).toBeCloseTo(w[0]!, 7);
    for (let i = 1; i < 128; i++) expect(w[i]).toBeGreaterThan(w[i - 1]!);
  });

  it('cross-fades two windows overlapping by the ramp width to a sum of ~1', () => {
    const w = axisWeights(512, 128);
    // window B starts 384 px after window A: A's pixel 384+i is B's pixel i
    for (let i = 0; i < 128; i++) expect(w[384 + i]! + w[i]!).toBeCloseTo(1, 5);
  });

  it('memoises per size', () => {
    const t = new WeightTable(64);
    expect(t.get(100)).toBe(t.get(100));
  });
});

describe('gaussianAxisWeights', () => {
  it('peaks at the centre, is symmetric, falls strictly towards both edges and stays > 0', () => {
    const w = gaussianAxisWeights(512);
    expect(w[255]).toBeCloseTo(1, 4);
    expect(w[256]).toBe(w[255]);
    for (let i = 0; i < 256; i++) expect(w[511 - i]).toBe(w[i]);
    for (let i = 1; i < 256; i++) expect(w[i]).toBeGreaterThan(w[i - 1]!);
    // sigma = 512/8 = 64: the edge pixel is 255.5 px = ~4 sigma from the centre
    expect(w[0]).toBeCloseTo(Math.exp(-(255.5 ** 2) / (2 * 64 ** 2)), 8);
    expect(w[0]).toBeGreaterThan(0);
  });

  it('hands a pixel to the window that has it nearer its centre', () => {
    // windows A at 0 and B at 384 (overlap 128): left of the midline (448) A weighs more, right of it B
    const w = gaussianAxisWeights(512);
    expect(w[447]!).toBeGreaterThan(w[447 - 384]!);
    expect(w[448]!).toBeLessThan(w[448 - 384]!);
  });

  it('gives one weight to a one-pixel window', () => {
    expect([...gaussianAxisWeights(1)]).toEqual([1]);
  });
});

describe('WeightTable', () => {
  it('uses the Gaussian by default and the sin^2 ramp over the overlap when asked', () => {
    expect(DEFAULT_WINDOW_WEIGHTING).toBe('gaussian');
    expect(new WeightTable(128).get(512)).toEqual(gaussianAxisWeights(512));
    expect(new WeightTable(128, 'sin2-ramp').get(512)).toEqual(axisWeights(512, 128));
    expect(windowAxisWeights('sin2-ramp', 300, 64)).toEqual(axisWeights(300, 64));
  });

  it('rejects a weighting it does not know, naming it', () => {
    expect(() => new WeightTable(128, 'cosine' as WindowWeighting)).toThrow(/unknown window weighting "cosine"; known: gaussian, sin2-ramp/);
  });
});

function uniformWindow(
  width: number,
  height: number,
  offsetX: number,
  offsetY: number,
  ranks: Array<[number, number]>,
  ramp = 4,
): WindowContribution {
  const n = width * height;
  return {
    width,
    height,
    offsetX,
    offsetY,
    argmax: new Uint8Array(n).fill(ranks[0]![0]),
    softIds: ranks.map(([id]) => new Uint8Array(n).fill(id)),
    softProbs: ranks.map(([, p]) => new Uint8Array(n).fill(p)),
    weightsX: axisWeights(width, ramp),
    weightsY: axisWeights(height, ramp),
  };
}

describe('BlendAccumulator', () => {
  it('leaves uncovered pixels as nodata and copies a single window', () => {
    const acc = new BlendAccumulator(4, 1, [1, 2, 3]);
    acc.add(uniformWindow(2, 1, 1, 0, [[3, 200], [1, 55]]));
    expect([...acc.resolve()]).toEqual([0, 3, 3, 0]);
  });

  it('cross-fades from one window to the next in the middle of their overlap', () => {
    // A (class 1) covers x 0..15, B (class 2) covers x 8..23, overlap 8 with ramp 8
    const acc = new BlendAccumulator(24, 1, [1, 2]);
    acc.add(uniformWindow(16, 1, 0, 0, [[1, 160], [2, 95]], 8));
    acc.add(uniformWindow(16, 1, 8, 0, [[2, 160], [1, 95]], 8));
    const out = [...acc.resolve()];
    expect(out.slice(0, 12)).toEqual(new Array(12).fill(1));
    expect(out.slice(12)).toEqual(new Array(12).fill(2));
  });

  it('with Gaussian weights, keeps each side of the overlap midline to the nearer-centred window', () => {
    // A (class 1) covers x 0..15, B (class 2) covers x 8..23; A is as confident as B
    const g = (n: number) => gaussianAxisWeights(n);
    const a = { ...uniformWindow(16, 1, 0, 0, [[1, 160], [2, 95]]), weightsX: g(16), weightsY: g(1) };
    const b = { ...uniformWindow(16, 1, 8, 0, [[2, 160], [1, 95]]), weightsX: g(16), weightsY: g(1) };
    const acc = new BlendAccumulator(24, 1, [1, 2]);
    acc.add(a);
    acc.add(b);
    const out = [...acc.resolve()];
    expect(out.slice(0, 12)).toEqual(new Array(12).fill(1));
    expect(out.slice(12)).toEqual(new Array(12).fill(2));
  });

  it('lets a confident window outvote an unsure one in their overlap', () => {
    const acc = new BlendAccumulator(4, 1, [1, 2]);
    acc.add(uniformWindow(4, 1, 0, 0, [[1, 130], [2, 125]], 0));
    acc.add(uniformWindow(4, 1, 0, 0, [[2, 250], [1, 5]], 0));
    expect([...acc.resolve()]).toEqual([2, 2, 2, 2]);
  });

  it('breaks quantisation ties with the exact argmax of the highest-weight window', () => {
    // both windows saw the same pixel values (context-free model): equal quantised probs,
    // but the exact float argmax was class 2
    const a = uniformWindow(6, 1, 0, 0, [[2, 128], [1, 128]], 3);
    const b = uniformWindow(6, 1, 0, 0, [[2, 128], [1, 128]], 3);
    const acc = new BlendAccumulator(6, 1, [1, 2]);
    acc.add(a);
    acc.add(b);
    expect([...acc.resolve()]).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('ignores pixels a window marks as nodata', () => {
    const a = uniformWindow(3, 1, 0, 0, [[1, 255]]);
    a.argmax[1] = 0;
    a.softProbs[0]![1] = 0;
    const acc = new BlendAccumulator(3, 1, [1]);
    acc.add(a);
    expect([...acc.resolve()]).toEqual([1, 0, 1]);
  });

  it('rejects a class id the model does not have, where one window alone covers it and where several do', () => {
    const alone = new BlendAccumulator(2, 1, [1]);
    alone.add(uniformWindow(2, 1, 0, 0, [[9, 255]]));
    expect(() => alone.resolve()).toThrow(/class id 9 is not one of the model's classes/);
    const overlapped = new BlendAccumulator(3, 1, [1]);
    overlapped.add(uniformWindow(2, 1, 0, 0, [[1, 255]]));
    overlapped.add(uniformWindow(2, 1, 1, 0, [[1, 200], [9, 55]]));
    expect(() => overlapped.resolve()).toThrow(/class id 9 is not one of the model's classes/);
    // two windows of one rank agreeing on it (the pairs fast path), and three or four (the corners one)
    // windows of two ranks agreeing on a known class, one giving its second rank to an unknown one
    const ranked = new BlendAccumulator(2, 1, [1]);
    ranked.add(uniformWindow(2, 1, 0, 0, [[1, 200], [1, 0]]));
    ranked.add(uniformWindow(2, 1, 0, 0, [[1, 200], [9, 55]]));
    expect(() => ranked.resolve()).toThrow(/class id 9 is not one of the model's classes/);
    for (const count of [2, 3, 4]) {
      const agreeing = new BlendAccumulator(2, 1, [1]);
      for (let i = 0; i < count; i++) agreeing.add(uniformWindow(2, 1, 0, 0, [[9, 200]]));
      expect(() => agreeing.resolve()).toThrow(/class id 9 is not one of the model's classes/);
    }
  });

  it('does not reject an unknown class where it has no probability or the window has no data', () => {
    const acc = new BlendAccumulator(3, 1, [1]);
    const a = uniformWindow(3, 1, 0, 0, [[1, 255], [9, 0]]);
    const b = uniformWindow(3, 1, 0, 0, [[1, 255], [9, 10]]);
    b.argmax.fill(0);
    acc.add(a);
    acc.add(b);
    expect([...acc.resolve()]).toEqual([1, 1, 1]);
  });

  it('scores the rank-0 class a window gives, even where it is not its argmax (windows agreeing on the argmax)', () => {
    for (const count of [2, 3, 4]) {
      const acc = new BlendAccumulator(1, 1, [1, 2]);
      // every window's argmax is 1; the last one gives its probability to class 2, and weighs most
      for (let i = 0; i < count - 1; i++) acc.add({ ...uniformWindow(1, 1, 0, 0, [[1, 10]]), weightsX: new Float32Array([0.1]) });
      const last = uniformWindow(1, 1, 0, 0, [[1, 255]]);
      last.softIds[0]!.fill(2);
      acc.add(last);
      expect([...acc.resolve()]).toEqual([2]);
    }
  });

  it('gives after reset() exactly what a fresh accumulator gives, whatever the previous region held', () => {
    const windows = [uniformWindow(6, 3, -2, 0, [[1, 140], [2, 115]], 3), uniformWindow(6, 3, 1, 1, [[2, 130], [1, 125]], 3)];
    const fresh = new BlendAccumulator(5, 3, [1, 2]);
    for (const w of windows) fresh.add(w);
    const reused = new BlendAccumulator(8, 8, [1, 2]);
    reused.add(uniformWindow(8, 8, 0, 0, [[1, 255]])); // leftovers a reset must clear
    reused.reset(5, 3);
    for (const w of windows) reused.add(w);
    const out = new Uint8Array(64).fill(9);
    expect([...reused.resolve(out).subarray(0, 15)]).toEqual([...fresh.resolve()]);
    expect([reused.width, reused.height]).toEqual([5, 3]);
  });

  it('refuses a region larger than its buffers', () => {
    expect(() => new BlendAccumulator(4, 4, [1], 8)).toThrow(/capacity of 8 pixels/);
    const acc = new BlendAccumulator(4, 4, [1]);
    expect(() => acc.reset(5, 4)).toThrow(/5x4 exceeds the capacity of 16 pixels/);
  });

  it('resolves a tie the fallback is not part of to the first tied class, whatever order the windows came in', () => {
    // equal weights (no ramp): the first window's argmax (3) is the fallback, but classes 1 and 2 tie above it
    const a = uniformWindow(3, 1, 0, 0, [[3, 50]], 0);
    const b = uniformWindow(3, 1, 0, 0, [[2, 100]], 0);
    const c = uniformWindow(3, 1, 0, 0, [[1, 100]], 0);
    for (const order of [[a, b, c], [a, c, b]]) {
      const acc = new BlendAccumulator(3, 1, [1, 2, 3]);
      for (const w of order) acc.add(w);
      expect([...acc.resolve()]).toEqual([1, 1, 1]);
    }
  });
});
