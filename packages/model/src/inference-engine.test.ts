import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { InferenceEngine, ProviderUnavailableError, type BatchInfo, type PatchInference } from './inference-engine';
import { parseModelManifest } from './model-manifest';
import { normalisationTables } from './normalisation';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { lcg, randomConvModel, randomPatch, removeModelFolders, testManifest, writeModelFolder } from './test-model-folder';
import { wrapModel } from './wrap-model';

const PATCH = 32;
const PLANE = PATCH * PATCH;

/** 1x1 conv with identity weights: the logits are the normalised input itself. */
function identityModel(): Uint8Array {
  const g = new OnnxGraphBuilder({ channels: 5 });
  const w = new Float32Array(25);
  for (let i = 0; i < 5; i++) w[i * 5 + i] = 1;
  g.output(g.conv(g.input, { outChannels: 5, weights: w }));
  return g.build();
}

/**
 * A model whose run fails on some inputs: it casts the normalised input to int64 and uses it as
 * Gather indices into a 2-element table, so a pixel normalised to >= 2 (raw 255 in band R) is out
 * of bounds, while zeros (the warm-up) and mid-range values are fine.
 */
function failingModel(): Uint8Array {
  const g = new OnnxGraphBuilder({ channels: 5 });
  g.output(g.conv(g.input, { outChannels: 5, weights: new Float32Array(25).fill(0.2) }));
  const model = onnx.ModelProto.decode(g.build());
  const graph = model.graph!;
  graph.node = [
    { opType: 'Cast', input: ['input'], output: ['idx'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.INT64 }] },
    { opType: 'Gather', input: ['table', 'idx'], output: ['logits'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
  ];
  graph.initializer = [{ name: 'table', dims: [2], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0.5, 1.5] }];
  return onnx.ModelProto.encode(model).finish();
}

/** The JS argmax over the normalised bands of a patch, as class ids (logit i -> id i + 1). */
function normalisedArgmax(input: Uint8Array): Uint8Array {
  const tables = normalisationTables(parseModelManifest(testManifest()));
  const out = new Uint8Array(PLANE);
  for (let p = 0; p < PLANE; p++) {
    let best = -Infinity;
    for (let b = 0; b < 5; b++) {
      const v = tables[b]![input[b * PLANE + p]!]!;
      if (v > best) {
        best = v;
        out[p] = b + 1;
      }
    }
  }
  return out;
}

function same(a: PatchInference, b: PatchInference): boolean {
  return (['classIds', 'topIds', 'topProbs'] as const).every((key) => Buffer.from(a[key]).equals(Buffer.from(b[key])));
}

afterAll(removeModelFolders);

describe('InferenceEngine', () => {
  it('returns class ids, ranked ids and probabilities of the normalised input (identity model)', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const engine = await InferenceEngine.load(dir, { topK: 3 });
    expect([engine.logitCount, engine.provider, engine.topK]).toEqual([5, 'cpu', 3]);
    const input = randomPatch(5, PATCH, 3);
    const out = await engine.infer(input);
    expect([out.classIds.length, out.topIds.length, out.topProbs.length]).toEqual([PLANE, 3 * PLANE, 3 * PLANE]);
    expect(Buffer.from(out.classIds).equals(Buffer.from(normalisedArgmax(input)))).toBe(true);
    expect(Buffer.from(out.topIds.subarray(0, PLANE)).equals(Buffer.from(out.classIds))).toBe(true);
    const tables = normalisationTables(parseModelManifest(testManifest()));
    let worst = 0;
    for (let p = 0; p < PLANE; p++) {
      const v = tables.map((t, b) => t[input[b * PLANE + p]!]!);
      const e = v.map((x) => Math.exp(x - Math.max(...v)));
      const sum = e.reduce((a, b) => a + b);
      for (let r = 0; r < 3; r++) worst = Math.max(worst, Math.abs(out.topProbs[r * PLANE + p]! - (e[out.topIds[r * PLANE + p]! - 1]! / sum) * 255));
      expect(out.topProbs[p]!).toBeGreaterThanOrEqual(out.topProbs[PLANE + p]!);
    }
    expect(worst).toBeLessThanOrEqual(1);
    await engine.close();
  });

  it('caps top-k at the number of classes', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const engine = await InferenceEngine.load(dir, { topK: 8, warmup: false });
    expect(engine.topK).toBe(5);
    expect((await engine.infer(randomPatch(5, PATCH, 1))).topIds).toHaveLength(5 * PLANE);
    await engine.close();
  });

  it('batches concurrent calls (10 calls, batch 4 -> 3 runs) with the same outputs as one by one', async () => {
    const dir = await writeModelFolder(randomConvModel({ channels: 5, logits: 19 }), testManifest());
    const inputs = Array.from({ length: 10 }, (_, i) => randomPatch(5, PATCH, 100 + i));

    const single = await InferenceEngine.load(dir, { batchSize: 1 });
    const expected: PatchInference[] = [];
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
    outputs.forEach((out, i) => expect(same(out, expected[i]!)).toBe(true));
    // Different inputs give different outputs, so the batch was not mixed up.
    expect(same(outputs[0]!, outputs[1]!)).toBe(false);
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

  it('falls back from cuda to cpu with a warning when CUDA is unavailable and the fallback is allowed', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const warnings: string[] = [];
    const engine = await InferenceEngine.load(dir, { provider: 'cuda', fallback: 'cpu', intraOpThreads: 1, onWarning: (m) => warnings.push(m) });
    if (engine.provider === 'cpu') expect(warnings.join('\n')).toMatch(/provider cuda unavailable[\s\S]*running test on cpu instead of cuda/);
    else expect(engine.provider).toBe('cuda');
    expect((await engine.infer(randomPatch(5, PATCH, 9))).classIds).toHaveLength(PLANE);
    await engine.close();
  });

  it.each(['cuda', 'tensorrt'] as const)('refuses %s with a ProviderUnavailableError when it cannot be loaded and no fallback is asked for', async (provider) => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const warnings: string[] = [];
    const loading = InferenceEngine.load(dir, { provider, intraOpThreads: 1, onWarning: (m) => warnings.push(m) });
    const outcome = await loading.then(
      (engine) => engine,
      (err: unknown) => err,
    );
    if (outcome instanceof InferenceEngine) {
      // a machine with the provider's libraries and a device: it runs there, never on the cpu
      expect(outcome.provider).toBe(provider);
      await outcome.close();
      return;
    }
    expect(outcome).toBeInstanceOf(ProviderUnavailableError);
    expect((outcome as ProviderUnavailableError).provider).toBe(provider);
    expect((outcome as Error).message).toMatch(new RegExp(`^execution provider ${provider} cannot be loaded on this machine and no fallback is allowed \\(.+\\)$`));
    expect(warnings).toEqual([]);
  });

  it('reports each real batch to onBatch: windows, session size, run ms and provider (warm-up excluded)', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const batches: BatchInfo[] = [];
    const engine = await InferenceEngine.load(dir, { batchSize: 4, intraOpThreads: 1, onBatch: (b) => batches.push(b) });
    expect(batches).toEqual([]);
    await Promise.all([1, 2, 3, 4, 5, 6].map((s) => engine.infer(randomPatch(5, PATCH, s))));
    expect(batches.map((b) => [b.windows, b.batchSize, b.provider])).toEqual([
      [4, 4, 'cpu'],
      [2, 2, 'cpu'],
    ]);
    for (const b of batches) expect(b.runMs).toBeGreaterThanOrEqual(0);
    expect(batches.reduce((a, b) => a + b.runMs, 0)).toBeCloseTo(engine.stats().runMs, 6);
    await engine.close();
  });

  it('a throwing onBatch does not fail the windows', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    const engine = await InferenceEngine.load(dir, { intraOpThreads: 1, onBatch: () => { throw new Error('log sink broken'); } });
    expect((await engine.infer(randomPatch(5, PATCH, 3))).classIds).toHaveLength(PLANE);
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

  it('runs a graph with a symbolic logit axis once at load even without warm-up, and refuses too few logits then', async () => {
    const symbolic = (logits: number): Uint8Array => {
      const model = onnx.ModelProto.decode(randomConvModel({ channels: 5, logits }));
      (model.graph as onnx.GraphProto).output[0]!.type!.tensorType!.shape!.dim![1] = { dimParam: 'L' };
      return onnx.ModelProto.encode(model).finish();
    };
    const manifest = testManifest({ classes: [{ logit: 17, id: 18, name: 'greenhouse', color: '#9999ff' }] });
    const few = await writeModelFolder(symbolic(10), manifest);
    await expect(InferenceEngine.load(few, { warmup: false })).rejects.toThrow(/model\.onnx: the warm-up run failed: .*Gather/);
    const enough = await writeModelFolder(symbolic(19), manifest);
    const engine = await InferenceEngine.load(enough, { warmup: false, topK: 1 });
    expect(engine.logitCount).toBeUndefined();
    expect([...new Set((await engine.infer(randomPatch(5, PATCH, 1))).classIds)]).toEqual([18]);
    await engine.close();
  });

  it('refuses tensor names the graph does not have, corrupt files, and inputs of the wrong size', async () => {
    const bad = await writeModelFolder(identityModel(), testManifest({ output: 'probs' }));
    await expect(InferenceEngine.load(bad)).rejects.toThrow(/model\.json: output: "probs" is not a graph output/);
    const corrupt = await writeModelFolder(Uint8Array.from([1, 2, 3]), testManifest());
    await expect(InferenceEngine.load(corrupt)).rejects.toThrow(/model\.onnx: not a valid ONNX model/);

    const dir = await writeModelFolder(identityModel(), testManifest({ input: 'input', output: 'logits' }));
    const engine = await InferenceEngine.load(dir);
    await expect(engine.infer(new Uint8Array(10))).rejects.toThrow(/expected 5 bands x 32 x 32 = 5120/);
    await engine.close();
  });

  it('reports a load failure inside the thread (onnxruntime rejects the graph) naming the file', async () => {
    // a Conv whose weights do not match its input channels: the protobuf decodes, onnxruntime refuses it
    const model = onnx.ModelProto.decode(identityModel());
    model.graph!.initializer![0]!.dims = [5, 4, 1, 1];
    model.graph!.initializer![0]!.rawData = new Uint8Array(5 * 4 * 4);
    const dir = await writeModelFolder(onnx.ModelProto.encode(model).finish(), testManifest());
    await expect(InferenceEngine.load(dir)).rejects.toThrow(/model\.onnx: (onnxruntime cannot load it|the warm-up run failed)/);
  });

  it('rejects the promises of a batch whose run fails, naming the file, and keeps serving', async () => {
    const dir = await writeModelFolder(failingModel(), testManifest());
    const engine = await InferenceEngine.load(dir, { batchSize: 2 });
    const good = randomPatch(5, PATCH, 1).fill(128);
    const bad = new Uint8Array(5 * PLANE).fill(255);
    const [a, b] = [engine.infer(good), engine.infer(bad)]; // one batch: both fail
    await expect(a).rejects.toThrow(/model\.onnx: inference failed: .*(out of|bounds)/);
    await expect(b).rejects.toThrow(/model\.onnx: inference failed/);
    expect((await engine.infer(good)).classIds).toHaveLength(PLANE);
    await engine.close();
  });

  it('rejects pending and later calls when the thread dies, naming the file', async () => {
    const dir = await writeModelFolder(identityModel(), testManifest());
    // A thread that reports ready and then exits on its first batch, as a crashed native call would.
    const code = `const { parentPort } = require('node:worker_threads');
      parentPort.postMessage({ type: 'ready', provider: 'cpu' });
      parentPort.on('message', () => process.exit(7));`;
    const engine = await InferenceEngine.load(dir, {}, { script: { code } });
    await expect(engine.infer(randomPatch(5, PATCH, 1))).rejects.toThrow(/model\.onnx: the inference thread exited \(code 7\)/);
    await expect(engine.infer(randomPatch(5, PATCH, 2))).rejects.toThrow(/model\.onnx: the inference thread exited/);
    await engine.close();
  });

  it('keeps the main event loop running while a batch runs (a synchronous session.run blocks it)', async () => {
    // Slow enough to measure: 12 chained 3x3 convs, 32 channels, on 256 x 256 patches (8 of
    // them ran a batch in 89 ms on a faster machine, under the 100 ms this test once asked for).
    const rnd = lcg(5);
    const g = new OnnxGraphBuilder({ channels: 5 });
    let x = g.conv(g.input, { outChannels: 32, kernel: 3, weights: Float32Array.from({ length: 32 * 5 * 9 }, rnd) });
    for (let i = 0; i < 11; i++) x = g.relu(g.conv(x, { outChannels: 32, kernel: 3, weights: Float32Array.from({ length: 32 * 32 * 9 }, () => rnd() * 0.1) }));
    g.output(g.conv(x, { outChannels: 5, weights: Float32Array.from({ length: 5 * 32 }, rnd) }));
    const manifest = testManifest({ patch: 256 });
    const dir = await writeModelFolder(g.build(), manifest);
    const input = randomPatch(5, 256, 4);

    const ticksDuring = async (work: () => Promise<unknown>): Promise<{ ticks: number; ms: number }> => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const started = performance.now();
      await work();
      const ms = performance.now() - started;
      clearInterval(timer);
      return { ticks, ms };
    };

    const engine = await InferenceEngine.load(dir, { batchSize: 2, intraOpThreads: 1 });
    const threaded = await ticksDuring(() => Promise.all([engine.infer(input), engine.infer(input)]));
    await engine.close();

    // the same wrapped graph run on this thread, as the engine did before
    const session = await ort.InferenceSession.create(wrapModel(g.build(), parseModelManifest(manifest), { k: 2, source: 'model.onnx' }).bytes, {
      intraOpNumThreads: 1,
    });
    const pixels = new Uint8Array(2 * input.length);
    pixels.set(input);
    pixels.set(input, input.length);
    const blocking = await ticksDuring(() => session.run({ pixels: new ort.Tensor('uint8', pixels, [2, 5, 256, 256]) }));
    await session.release();

    console.log(`event loop ticks (every 5 ms): ${threaded.ticks} during ${threaded.ms.toFixed(0)} ms on the thread, ${blocking.ticks} during ${blocking.ms.toFixed(0)} ms on the main thread`);
    // long enough that a free loop would tick 10 times or more
    expect(threaded.ms).toBeGreaterThan(50);
    expect(blocking.ms).toBeGreaterThan(50);
    // at least a third of the ticks a free loop would get, vs. at most one (a tick due as the run ends)
    expect(threaded.ticks).toBeGreaterThanOrEqual(Math.floor(threaded.ms / 5 / 3));
    expect(blocking.ticks).toBeLessThanOrEqual(1);
  });
});
