import { InferenceEngine } from './inference-engine';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { FLAIR_MEAN, FLAIR_STD, randomConvModel, randomPatch, removeModelFolders, testManifest, writeModelFolder } from './test-model-folder';

const PATCH = 32;
const PLANE = PATCH * PATCH;

/** 1x1 conv with identity weights: the output is the normalised input itself. */
function identityModel(): Uint8Array {
  const g = new OnnxGraphBuilder({ channels: 5 });
  const w = new Float32Array(25);
  for (let i = 0; i < 5; i++) w[i * 5 + i] = 1;
  g.output(g.conv(g.input, { outChannels: 5, weights: w }));
  return g.build();
}

afterAll(removeModelFolders);

describe('InferenceEngine', () => {
  it('normalises raw bytes with (x - mean) / std exactly as the JS maths does', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const engine = await InferenceEngine.load(dir);
    expect(engine.logitCount).toBe(5);
    expect(engine.provider).toBe('cpu');
    const input = randomPatch(5, PATCH, 3);
    input[0] = 0;
    input[1] = 255;
    const out = await engine.infer(input);
    expect(out).toHaveLength(5 * PLANE);
    let worst = 0;
    for (let b = 0; b < 5; b++) {
      for (let p = 0; p < PLANE; p++) {
        const expected = (input[b * PLANE + p]! - FLAIR_MEAN[b]!) / FLAIR_STD[b]!;
        worst = Math.max(worst, Math.abs(out[b * PLANE + p]! - expected));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    expect(out[0]).toBeCloseTo(-105.08 / 52.17, 5);
    await engine.close();
  });

  it('batches concurrent calls (10 calls, batch 4 -> 3 runs) with the same outputs as one by one', async () => {
    const dir = await writeModelFolder(randomConvModel({ channels: 5, logits: 19 }), testManifest());
    const inputs = Array.from({ length: 10 }, (_, i) => randomPatch(5, PATCH, 100 + i));

    const single = await InferenceEngine.load(dir, { batchSize: 1 });
    const expected: Float32Array[] = [];
    for (const input of inputs) expected.push(await single.infer(input));
    expect(single.stats()).toMatchObject({ batches: 10, windows: 10 });
    await single.close();

    const engine = await InferenceEngine.load(dir, { batchSize: 4 });
    expect(engine.stats()).toEqual({ batches: 0, windows: 0, runMs: 0 }); // warm-up is not counted
    const outputs = await Promise.all(inputs.map((input) => engine.infer(input)));
    const stats = engine.stats();
    expect(stats.batches).toBe(3);
    expect(stats.windows).toBe(10);
    expect(stats.runMs).toBeGreaterThan(0);
    outputs.forEach((out, i) => {
      const ref = expected[i]!;
      expect(out).toHaveLength(19 * PLANE);
      let worst = 0;
      for (let j = 0; j < out.length; j++) worst = Math.max(worst, Math.abs(out[j]! - ref[j]!));
      expect(worst).toBeLessThan(1e-5);
    });
    // Different inputs give different outputs, so the batch was not mixed up.
    expect(outputs[0]![0]).not.toBe(outputs[1]![0]);
    await engine.close();
  });

  it('queues calls made while a batch runs into the next batch', async () => {
    const dir = await writeModelFolder(randomConvModel({ channels: 5, logits: 19 }), testManifest());
    const engine = await InferenceEngine.load(dir, { batchSize: 4, warmup: false });
    const first = engine.infer(randomPatch(5, PATCH, 1));
    await new Promise((r) => setImmediate(r)); // the first batch (of one) is now under way
    const later = [2, 3, 4].map((s) => engine.infer(randomPatch(5, PATCH, s)));
    await Promise.all([first, ...later]);
    expect(engine.stats()).toMatchObject({ batches: 2, windows: 4 });
    await engine.close();
    await expect(engine.infer(randomPatch(5, PATCH, 1))).rejects.toThrow(/closed/);
  });

  it('forces batch size 1 with a warning when the graph batch is fixed to 1', async () => {
    const dir = await writeModelFolder(randomConvModel({ channels: 5, logits: 19, batch: 1 }), testManifest());
    const warnings: string[] = [];
    const engine = await InferenceEngine.load(dir, { batchSize: 4, onWarning: (m) => warnings.push(m) });
    expect(engine.batchSize).toBe(1);
    expect(warnings.join('\n')).toMatch(/batch dimension is fixed to 1; batchSize 4 forced to 1/);
    await Promise.all([1, 2, 3].map((s) => engine.infer(randomPatch(5, PATCH, s))));
    expect(engine.stats()).toMatchObject({ batches: 3, windows: 3 });
    await engine.close();
  });

  it('falls back from cuda to cpu with a warning when CUDA is unavailable', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const warnings: string[] = [];
    const engine = await InferenceEngine.load(dir, { provider: 'cuda', intraOpThreads: 1, onWarning: (m) => warnings.push(m) });
    if (engine.provider === 'cpu') expect(warnings.join('\n')).toMatch(/running test on cpu instead of cuda/);
    else expect(engine.provider).toBe('cuda');
    expect(await engine.infer(randomPatch(5, PATCH, 9))).toHaveLength(5 * PLANE);
    await engine.close();
  });

  it('refuses a graph whose channel count differs from the manifest bands, naming both files', async () => {
    const dir = await writeModelFolder(randomConvModel({ channels: 3, logits: 19 }), testManifest());
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/model\.onnx: input "input" has 3 channels but .*model\.json bands lists 5 \(R,G,B,NIR,E\)/);
  });

  it('refuses a graph with fewer logits than the manifest classes need', async () => {
    const manifest = testManifest({ classes: [{ logit: 17, id: 18, name: 'greenhouse', color: '#9999ff' }] });
    const dir = await writeModelFolder(randomConvModel({ channels: 5, logits: 10 }), manifest);
    await expect(InferenceEngine.load(dir, { warmup: false })).rejects.toThrow(/model\.onnx: output "logits" has 10 logits but .*model\.json classes use logit 17/);
  });

  it('refuses tensor names the graph does not have, and inputs of the wrong size', async () => {
    const bad = await writeModelFolder(identityModel(), testManifest({ output: 'probs' }));
    await expect(InferenceEngine.load(bad)).rejects.toThrow(/model\.json: output: "probs" is not a graph output/);
    const corrupt = await writeModelFolder(Uint8Array.from([1, 2, 3]), testManifest());
    await expect(InferenceEngine.load(corrupt)).rejects.toThrow(/model\.onnx: onnxruntime cannot load it/);

    const dir = await writeModelFolder(identityModel(), testManifest({ input: 'input', output: 'logits' }));
    const engine = await InferenceEngine.load(dir);
    await expect(engine.infer(new Uint8Array(10))).rejects.toThrow(/expected 5 bands x 32 x 32 = 5120/);
    await engine.close();
  });
});
