import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from './onnx-graph-builder';

/** Deterministic values in [-1, 1) so the tests need no fixtures. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function randomArray(n: number, rnd: () => number): Float32Array {
  return Float32Array.from({ length: n }, rnd);
}

/** Reference convolution, stride 1, zero "same" padding, NCHW. */
function convJs(x: Float32Array, n: number, c: number, h: number, w: number, weights: Float32Array, bias: Float32Array | undefined, out: number, k: number): Float32Array {
  const y = new Float32Array(n * out * h * w);
  const r = (k - 1) / 2;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < out; o++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          let s = bias ? bias[o]! : 0;
          for (let ci = 0; ci < c; ci++)
            for (let di = 0; di < k; di++)
              for (let dj = 0; dj < k; dj++) {
                const ii = i + di - r;
                const jj = j + dj - r;
                if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
                s += weights[((o * c + ci) * k + di) * k + dj]! * x[((b * c + ci) * h + ii) * w + jj]!;
              }
          y[((b * out + o) * h + i) * w + j] = s;
        }
  return y;
}

async function run(model: Uint8Array, input: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model);
  try {
    const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
    return result[session.outputNames[0]!]!;
  } finally {
    await session.release();
  }
}

function expectClose(actual: Float32Array, expected: Float32Array, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tol);
}

describe('OnnxGraphBuilder', () => {
  it('builds a 1x1 conv that onnxruntime runs exactly like the JS maths, any batch and size', async () => {
    const rnd = lcg(1);
    const weights = randomArray(7 * 5, rnd);
    const bias = randomArray(7, rnd);
    const g = new OnnxGraphBuilder({ channels: 5 });
    g.output(g.conv(g.input, { outChannels: 7, weights, bias }));
    const model = g.build();
    for (const [n, h, w] of [[1, 8, 8], [3, 5, 11]] as const) {
      const x = randomArray(n * 5 * h * w, rnd);
      const y = await run(model, x, [n, 5, h, w]);
      expect(y.dims).toEqual([n, 7, h, w]);
      expectClose(y.data as Float32Array, convJs(x, n, 5, h, w, weights, bias, 7, 1), 1e-5);
    }
  });

  it('builds a 3x3 conv with padding that keeps H and W', async () => {
    const rnd = lcg(2);
    const weights = randomArray(4 * 3 * 9, rnd);
    const g = new OnnxGraphBuilder({ channels: 3, inputName: 'x' });
    g.output(g.conv(g.input, { outChannels: 4, kernel: 3, weights }), 'y');
    const x = randomArray(2 * 3 * 9 * 7, rnd);
    const y = await run(g.build(), x, [2, 3, 9, 7]);
    expect(y.dims).toEqual([2, 4, 9, 7]);
    expectClose(y.data as Float32Array, convJs(x, 2, 3, 9, 7, weights, undefined, 4, 3), 1e-5);
  });

  it('chains conv, relu, concat, add and mul', async () => {
    const rnd = lcg(3);
    const w1 = randomArray(2 * 2 * 9, rnd);
    const w2 = randomArray(4 * 4, rnd);
    const g = new OnnxGraphBuilder({ channels: 2 });
    const a = g.relu(g.conv(g.input, { outChannels: 2, kernel: 3, weights: w1 }));
    const cat = g.concat([a, g.input]);
    const b = g.conv(cat, { outChannels: 4, weights: w2 });
    g.output(g.mul(g.add(b, b), b));
    const [n, h, w] = [1, 6, 6];
    const x = randomArray(n * 2 * h * w, rnd);
    const y = await run(g.build(), x, [n, 2, h, w]);

    const ar = convJs(x, n, 2, h, w, w1, undefined, 2, 3).map((v) => Math.max(0, v));
    const catJs = new Float32Array([...ar, ...x]); // n = 1, so channel concat is array concat
    const bj = convJs(catJs, n, 4, h, w, w2, undefined, 4, 1);
    expectClose(y.data as Float32Array, bj.map((v) => 2 * v * v), 1e-5);
  });

  it('declares a symbolic batch by default and a fixed one on request', async () => {
    const make = (batch?: number): Uint8Array => {
      const g = new OnnxGraphBuilder({ channels: 1, ...(batch === undefined ? {} : { batch }) });
      g.output(g.conv(g.input, { outChannels: 1, weights: [2] }));
      return g.build();
    };
    const free = await ort.InferenceSession.create(make());
    const fixed = await ort.InferenceSession.create(make(1));
    const shape = (s: ort.InferenceSession): ReadonlyArray<number | string> => {
      const meta = s.inputMetadata[0]!;
      return meta.isTensor ? meta.shape : [];
    };
    expect(shape(free)).toEqual(['N', 1, 'H', 'W']);
    expect(shape(fixed)).toEqual([1, 1, 'H', 'W']);
    await free.release();
    await fixed.release();
  });

  it('rejects weights of the wrong size and even kernels', () => {
    const g = new OnnxGraphBuilder({ channels: 2 });
    expect(() => g.conv(g.input, { outChannels: 3, weights: [1, 2] })).toThrow(/expected 3x2x1x1 = 6, got 2/);
    expect(() => g.conv(g.input, { outChannels: 1, kernel: 2, weights: [1, 2, 3, 4, 5, 6, 7, 8] })).toThrow(/odd/);
    expect(() => g.build()).toThrow(/no output/);
  });
});
