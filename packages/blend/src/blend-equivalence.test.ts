import { BlendAccumulator, type WindowContribution } from './blend-accumulator';
import { coverageCells } from './coverage-cells';
import { ReferenceBlendAccumulator } from './test-reference-blend';
import { axisWeights, gaussianAxisWeights } from './window-weights';

/** xorshift32: the same cases on every run. */
function prng(seed: number): (below: number) => number {
  let s = seed >>> 0 || 1;
  return (below) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % below;
  };
}

const CLASSES = [1, 2, 3, 5, 8];
/** Few distinct values, so that scores and weights tie often (the branches that decide ties). */
const PROBS = [0, 0, 1, 64, 127, 128, 128, 255];

/** One axis of weights of a kind picked at random: ramps, Gaussian, all equal, or with zeros. */
function randomAxis(size: number, pick: (below: number) => number): Float32Array {
  switch (pick(5)) {
    case 0:
      return axisWeights(size, 1 + pick(Math.max(1, size >> 1)));
    case 1:
      return gaussianAxisWeights(size);
    case 2:
      return new Float32Array(size).fill(0.1); // not a float32 value: the rounding of the best weight matters
    case 3:
      return Float32Array.from({ length: size }, () => [0, 0.25, 0.3, 1][pick(4)]!);
    default:
      return Float32Array.from({ length: size }, () => (1 + pick(1000)) / 997);
  }
}

function randomWindow(regionW: number, regionH: number, pick: (below: number) => number, unknownIds: boolean, maxK = 3): WindowContribution {
  const width = 1 + pick(regionW + 4);
  const height = 1 + pick(regionH + 4);
  const n = width * height;
  const k = 1 + pick(maxK);
  const ids = unknownIds ? [...CLASSES, 9] : CLASSES;
  const argmax = Uint8Array.from({ length: n }, () => (pick(6) === 0 ? 0 : ids[pick(ids.length)]!));
  // rank 0 is the argmax in tiles the codec decodes; hand-made ones may differ (the fallback then need not be scored)
  const ranked = pick(3) !== 0;
  const softIds = Array.from({ length: k }, (_, r) => (r === 0 && ranked ? argmax.slice() : Uint8Array.from({ length: n }, () => ids[pick(ids.length)]!)));
  const softProbs = Array.from({ length: k }, () => Uint8Array.from({ length: n }, () => PROBS[pick(PROBS.length)]!));
  return {
    width,
    height,
    argmax,
    softIds,
    softProbs,
    weightsX: randomAxis(width, pick),
    weightsY: randomAxis(height, pick),
    offsetX: pick(regionW + 6) - 4,
    offsetY: pick(regionH + 6) - 4,
  };
}

/** A window over the whole w x h cell (offset 0), its axis weights drawn by `weight`. */
function wholeCellWindow(w: number, h: number, argmax: Uint8Array, softIds: Uint8Array[], softProbs: Uint8Array[], weight: () => number): WindowContribution {
  return {
    width: w,
    height: h,
    offsetX: 0,
    offsetY: 0,
    argmax,
    softIds,
    softProbs,
    weightsX: Float32Array.from({ length: w }, weight),
    weightsY: Float32Array.from({ length: h }, weight),
  };
}

/** The class map both accumulators give, or the error each throws. */
function outcome(acc: { add(w: WindowContribution): void; resolve(): Uint8Array }, windows: readonly WindowContribution[]): number[] | string {
  try {
    for (const w of windows) acc.add(w);
    return [...acc.resolve()];
  } catch (err) {
    return err instanceof RangeError ? 'RangeError' : String(err);
  }
}

describe('BlendAccumulator against the former pixel-by-pixel accumulator', () => {
  it('gives the same class at every pixel for 3,000 random overlaps (ties, nodata, zero weights, k = 1..3)', () => {
    const pick = prng(20261130);
    let blended = 0;
    for (let c = 0; c < 3000; c++) {
      const w = 1 + pick(24);
      const h = 1 + pick(16);
      const windows = Array.from({ length: pick(7) }, () => randomWindow(w, h, pick, false));
      const expected = outcome(new ReferenceBlendAccumulator(w, h, CLASSES), windows);
      const actual = outcome(new BlendAccumulator(w, h, CLASSES), windows);
      expect(actual).toEqual(expected);
      if (typeof expected !== 'string' && windows.length > 1) blended++;
    }
    expect(blended).toBeGreaterThan(1500);
  });

  it('gives the same class at every pixel for 3,000 random overlaps of windows with one rank (k = 1, the pairs fast path)', () => {
    const pick = prng(4242);
    for (let c = 0; c < 3000; c++) {
      const w = 1 + pick(24);
      const h = 1 + pick(16);
      const windows = Array.from({ length: 1 + pick(4) }, () => randomWindow(w, h, pick, pick(20) === 0, 1));
      expect(outcome(new BlendAccumulator(w, h, CLASSES), windows)).toEqual(outcome(new ReferenceBlendAccumulator(w, h, CLASSES), windows));
    }
  });

  it.each([1, 2])('gives the same class where three or four windows of %i rank(s) cover every pixel (the corners paths), ties everywhere', (k) => {
    const pick = prng(31337 + k);
    const values = [0.1, 0.3, 0.25, 1 / 3];
    for (let c = 0; c < 400; c++) {
      const w = 1 + pick(12);
      const h = 1 + pick(8);
      const count = 3 + pick(2);
      const windows = Array.from({ length: count }, (): WindowContribution => {
        const n = w * h;
        // few classes, often agreeing (the agreement paths), unknown second ranks now and then
        const argmax = Uint8Array.from({ length: n }, () => (pick(8) === 0 ? 0 : CLASSES[pick(2)]!));
        const ids = [pick(3) !== 0 ? argmax.slice() : Uint8Array.from({ length: n }, () => CLASSES[pick(4)]!)];
        const probs = [Uint8Array.from({ length: n }, () => [0, 100, 200, 255][pick(4)]!)];
        if (k === 2) {
          ids.push(Uint8Array.from({ length: n }, () => (pick(50) === 0 ? 9 : CLASSES[pick(4)]!)));
          probs.push(Uint8Array.from({ length: n }, () => [0, 40, 100, 200][pick(4)]!));
        }
        return wholeCellWindow(w, h, argmax, ids, probs, () => values[pick(values.length)]!);
      });
      expect(outcome(new BlendAccumulator(w, h, CLASSES), windows)).toEqual(outcome(new ReferenceBlendAccumulator(w, h, CLASSES), windows));
    }
  });

  it('gives the same class where two or four windows of one or two ranks disagree (the disputed-pixel loops), ties, zero weights, unknown ids', () => {
    const pick = prng(20261201);
    const values = [0, 0.1, 0.3, 0.25, 1 / 3];
    let disputed = 0;
    for (let c = 0; c < 1500; c++) {
      const w = 1 + pick(12);
      const h = 1 + pick(8);
      const count = pick(2) === 0 ? 2 : 4;
      const windows = Array.from({ length: count }, (): WindowContribution => {
        const n = w * h;
        // three classes for four windows: rank 0 disagrees on most pixels and ties often
        const argmax = Uint8Array.from({ length: n }, () => (pick(10) === 0 ? 0 : CLASSES[pick(3)]!));
        const ids = [argmax.slice()];
        const probs = [Uint8Array.from({ length: n }, () => [0, 40, 100, 200, 255][pick(5)]!)];
        if (pick(4) !== 0) {
          ids.push(Uint8Array.from({ length: n }, () => (pick(200) === 0 ? 9 : CLASSES[pick(4)]!)));
          probs.push(Uint8Array.from({ length: n }, () => [0, 40, 100, 200][pick(4)]!));
        }
        return wholeCellWindow(w, h, argmax, ids, probs, () => values[pick(values.length)]!);
      });
      const expected = outcome(new ReferenceBlendAccumulator(w, h, CLASSES), windows);
      expect(outcome(new BlendAccumulator(w, h, CLASSES), windows)).toEqual(expected);
      if (typeof expected !== 'string' && windows.some((win) => win.softProbs.length === 2)) disputed++;
    }
    expect(disputed).toBeGreaterThan(800);
  });

  it('decides four agreeing two-rank windows as the former one did when one of them breaks a condition of the shortcut', () => {
    /** One pixel, four windows whose argmax and rank 0 are class 2; window `odd` gets `change`. */
    const four = (odd: number, change: (w: WindowContribution) => void): WindowContribution[] =>
      [0, 1, 2, 3].map((j) => {
        const w: WindowContribution = {
          width: 1,
          height: 1,
          offsetX: 0,
          offsetY: 0,
          argmax: Uint8Array.of(2),
          softIds: [Uint8Array.of(2), Uint8Array.of(1)],
          softProbs: [Uint8Array.of(100), Uint8Array.of(0)],
          weightsX: Float32Array.of(j === odd ? 1 : 0.1),
          weightsY: Float32Array.of(1),
        };
        if (j === odd) change(w);
        return w;
      });
    const cases: Array<[string, (w: WindowContribution) => void]> = [
      // its second rank outweighs its first: class 1 wins
      ['rank 1 above rank 0', (w) => ((w.softProbs[0]![0] = 10), (w.softProbs[1]![0] = 255))],
      ['an unknown rank-1 id', (w) => ((w.softIds[1]![0] = 9), (w.softProbs[1]![0] = 5))],
      ['rank 0 another class', (w) => ((w.softIds[0]![0] = 1), (w.softProbs[0]![0] = 255))],
    ];
    for (let odd = 0; odd < 4; odd++) {
      for (const [, change] of cases) {
        const windows = four(odd, change);
        expect(outcome(new BlendAccumulator(1, 1, [1, 2]), windows)).toEqual(outcome(new ReferenceBlendAccumulator(1, 1, [1, 2]), windows));
      }
    }
    // no weight anywhere: every score 0, the tie goes to the first class, not to the one they agree on
    const weightless = four(0, () => undefined).map((w) => ({ ...w, weightsX: Float32Array.of(0) }));
    expect(outcome(new BlendAccumulator(1, 1, [1, 2]), weightless)).toEqual([1]);
    expect(outcome(new ReferenceBlendAccumulator(1, 1, [1, 2]), weightless)).toEqual([1]);
  });

  it('decides two agreeing windows of at most two ranks as the former one did when one of them breaks a condition of the shortcut (agreedPair)', () => {
    /** One pixel, two windows whose argmax and rank 0 are class 2 (the other of one rank when `oneRank`); window `odd` gets `change`. */
    const pair = (odd: number, change: (w: WindowContribution) => void, oneRank = false): WindowContribution[] =>
      [0, 1].map((j) => {
        const twoRanks = !oneRank || j === odd;
        const w: WindowContribution = {
          width: 1,
          height: 1,
          offsetX: 0,
          offsetY: 0,
          argmax: Uint8Array.of(2),
          softIds: twoRanks ? [Uint8Array.of(2), Uint8Array.of(1)] : [Uint8Array.of(2)],
          softProbs: twoRanks ? [Uint8Array.of(100), Uint8Array.of(0)] : [Uint8Array.of(100)],
          weightsX: Float32Array.of(j === odd ? 1 : 0.1),
          weightsY: Float32Array.of(1),
        };
        if (j === odd) change(w);
        return w;
      });
    // each case and the class it must give (window `odd` weighs 1, the other 0.1)
    const cases: Array<[string, (w: WindowContribution) => void, number[] | string]> = [
      ['unchanged', () => undefined, [2]],
      // its second rank outweighs its first: class 1 wins (255 against 10 + 10)
      ['rank 1 above rank 0', (w) => ((w.softProbs[0]![0] = 10), (w.softProbs[1]![0] = 255)), [1]],
      ['an unknown rank-1 id', (w) => ((w.softIds[1]![0] = 9), (w.softProbs[1]![0] = 5)), 'RangeError'],
      ['rank 0 another class', (w) => ((w.softIds[0]![0] = 1), (w.softProbs[0]![0] = 255)), [1]],
      ['rank 0 without probability', (w) => (w.softProbs[0]![0] = 0), [2]],
      ['another argmax', (w) => (w.argmax[0] = 1), [2]],
      ['no data', (w) => (w.argmax[0] = 0), [2]],
      ['an unknown argmax', (w) => ((w.argmax[0] = 9), (w.softIds[0]![0] = 9)), 'RangeError'],
    ];
    for (const oneRank of [false, true]) {
      for (let odd = 0; odd < 2; odd++) {
        for (const [name, change, expected] of cases) {
          const windows = pair(odd, change, oneRank);
          const got = outcome(new BlendAccumulator(1, 1, [1, 2]), windows);
          expect({ name, odd, oneRank, got }).toEqual({ name, odd, oneRank, got: outcome(new ReferenceBlendAccumulator(1, 1, [1, 2]), windows) });
          expect({ name, odd, oneRank, got }).toEqual({ name, odd, oneRank, got: expected });
        }
      }
    }
    // no weight anywhere: every score 0, the tie goes to the first class, not to the one they agree on
    const weightless = pair(0, () => undefined).map((w) => ({ ...w, weightsX: Float32Array.of(0) }));
    expect(outcome(new BlendAccumulator(1, 1, [1, 2]), weightless)).toEqual([1]);
    expect(outcome(new ReferenceBlendAccumulator(1, 1, [1, 2]), weightless)).toEqual([1]);
    // neither has data: nodata
    const empty = pair(0, (w) => (w.argmax[0] = 0)).map((w) => ({ ...w, argmax: Uint8Array.of(0) }));
    expect(outcome(new BlendAccumulator(1, 1, [1, 2]), empty)).toEqual([0]);
  });

  it('throws where the former one threw, for soft class ids the model lacks', () => {
    const pick = prng(7);
    let threw = 0;
    for (let c = 0; c < 500; c++) {
      const w = 1 + pick(12);
      const h = 1 + pick(8);
      const windows = Array.from({ length: 1 + pick(4) }, () => randomWindow(w, h, pick, pick(3) === 0));
      const expected = outcome(new ReferenceBlendAccumulator(w, h, CLASSES), windows);
      expect(outcome(new BlendAccumulator(w, h, CLASSES), windows)).toEqual(expected);
      if (expected === 'RangeError') threw++;
    }
    // both kinds of case occurred
    expect(threw).toBeGreaterThan(20);
    expect(threw).toBeLessThan(480);
  });

  it('gives the same after reset() as fresh, on a region smaller than the capacity', () => {
    const pick = prng(99);
    const reused = new BlendAccumulator(30, 20, CLASSES);
    for (let c = 0; c < 200; c++) {
      const w = 1 + pick(30);
      const h = 1 + pick(20);
      const windows = Array.from({ length: pick(6) }, () => randomWindow(w, h, pick, false));
      reused.reset(w, h);
      const out = new Uint8Array(600).fill(77);
      for (const win of windows) reused.add(win);
      expect([...reused.resolve(out).subarray(0, w * h)]).toEqual(outcome(new ReferenceBlendAccumulator(w, h, CLASSES), windows));
    }
  });
});

describe('coverageCells', () => {
  it('tiles the region exactly once and lists, in order, the windows that cover each cell', () => {
    const pick = prng(5);
    for (let c = 0; c < 300; c++) {
      const w = 1 + pick(20);
      const h = 1 + pick(20);
      const rects = Array.from({ length: pick(6) }, () => {
        const x0 = pick(w + 8) - 4;
        const y0 = pick(h + 8) - 4;
        return { x0, y0, x1: x0 + pick(w + 2), y1: y0 + pick(h + 2) };
      });
      const seen = new Array<string>(w * h).fill('');
      for (const cell of coverageCells(w, h, rects)) {
        expect(cell.x1).toBeGreaterThan(cell.x0);
        expect(cell.y1).toBeGreaterThan(cell.y0);
        for (let y = cell.y0; y < cell.y1; y++) for (let x = cell.x0; x < cell.x1; x++) seen[y * w + x] += `[${cell.windows.join(',')}]`;
      }
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const covering = rects.flatMap((r, i) => (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1 ? [i] : []));
          expect(seen[y * w + x]).toBe(`[${covering.join(',')}]`);
        }
      }
    }
  });

  it('has no cells for an empty region', () => {
    expect(coverageCells(0, 5, [{ x0: 0, y0: 0, x1: 3, y1: 3 }])).toEqual([]);
  });
});
