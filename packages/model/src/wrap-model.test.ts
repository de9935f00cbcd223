import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { parseModelManifest } from './model-manifest';
import { normalisationTables } from './normalisation';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { randomConvModel, testManifest } from './test-model-folder';
import { USER_PREFIX, wrapModel } from './wrap-model';

const manifest = parseModelManifest(testManifest());

/** Re-encodes a model after `edit` changes its decoded proto. */
function edited(bytes: Uint8Array, edit: (m: onnx.ModelProto) => void): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  edit(model);
  return onnx.ModelProto.encode(model).finish();
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('wrapModel', () => {
  it('normalises in the graph bit for bit as normalisationTables does (every byte, every band)', async () => {
    const wrapped = wrapModel(randomConvModel({ channels: 5, logits: 5, kernel: 1 }), manifest, { k: 2, source: 'm.onnx' });
    // expose the user graph's (renamed) input, the normalised tensor, as an extra output
    const probe = edited(wrapped.bytes, (m) => {
      (m.graph as onnx.GraphProto).output.push({ name: `${USER_PREFIX}input`, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
    });
    const pixels = new Uint8Array(5 * 256);
    for (let b = 0; b < 5; b++) for (let v = 0; v < 256; v++) pixels[b * 256 + v] = v;
    const out = await run(probe, { pixels: new ort.Tensor('uint8', pixels, [1, 5, 16, 16]) });
    const normalised = out[`${USER_PREFIX}input`]!.data as Float32Array;
    const tables = normalisationTables(manifest);
    let differ = 0;
    for (let b = 0; b < 5; b++) for (let v = 0; v < 256; v++) if (normalised[b * 256 + v] !== tables[b]![v]) differ++;
    expect(differ).toBe(0);
    expect(tables[0]![0]).toBeCloseTo(-105.08 / 52.17, 6);
  });

  it("keeps the user's names apart under a prefix, its batch dimension, and declares uint8 in and out", () => {
    const wrapped = wrapModel(randomConvModel({ channels: 5, logits: 19, batch: 1 }), manifest, { k: 2, source: 'm.onnx' });
    const model = onnx.ModelProto.decode(wrapped.bytes);
    const g = model.graph as onnx.GraphProto;
    expect(g.input.map((v) => v.name)).toEqual(['pixels']);
    expect(g.output.map((v) => v.name)).toEqual(['class_id', 'top_probs', 'top_ids']);
    expect(g.input[0]!.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.UINT8);
    expect(wrapped.inputDims).toEqual([1, 5, 'H', 'W']);
    expect(wrapped.logitCount).toBe(19);
    const userNodes = g.node.filter((n) => n.opType === 'Conv' || n.opType === 'Identity');
    expect(userNodes.length).toBe(2);
    for (const n of userNodes) for (const name of [...(n.input ?? []), ...(n.output ?? [])]) expect(name.startsWith(USER_PREFIX)).toBe(true);
    expect(g.initializer.filter((t) => !t.name!.startsWith(USER_PREFIX)).map((t) => t.name).sort()).toEqual(
      ['fleet/255', 'fleet/axis1', 'fleet/class_ids', 'fleet/class_logits', 'fleet/ends1', 'fleet/k', 'fleet/mean', 'fleet/rank0', 'fleet/starts0', 'fleet/std'],
    );
    expect(Number(model.opsetImport.find((o) => !o.domain)!.version)).toBe(17);
  });

  it('raises an opset below 13 with a warning, and the result runs', async () => {
    const old = edited(randomConvModel({ channels: 5, logits: 5, kernel: 1 }), (m) => {
      m.opsetImport = [{ domain: '', version: 11 }];
      m.irVersion = 6;
    });
    const wrapped = wrapModel(old, manifest, { k: 1, source: 'old.onnx' });
    expect(wrapped.warnings.join('\n')).toMatch(/old\.onnx: opset 11 raised to 13/);
    const model = onnx.ModelProto.decode(wrapped.bytes);
    expect(Number(model.opsetImport[0]!.version)).toBe(13);
    expect(Number(model.irVersion)).toBe(7);
    const out = await run(wrapped.bytes, { pixels: new ort.Tensor('uint8', new Uint8Array(5 * 4), [1, 5, 2, 2]) });
    expect(out.top_probs!.dims).toEqual([1, 1, 2, 2]);
  });

  it('casts to and from a float16 model', async () => {
    const half = edited(randomConvModel({ channels: 5, logits: 5, kernel: 1 }), (m) => {
      const g = m.graph as onnx.GraphProto;
      const F16 = onnx.TensorProto.DataType.FLOAT16;
      // the float16 model: its input and output are float16; inside, it computes in float32
      g.node.unshift({ opType: 'Cast', input: ['input16'], output: ['input'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
      g.node.push({ opType: 'Cast', input: ['logits'], output: ['logits16'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: F16 }] });
      g.input[0]!.name = 'input16';
      g.input[0]!.type!.tensorType!.elemType = F16;
      g.output[0]!.name = 'logits16';
      g.output[0]!.type!.tensorType!.elemType = F16;
    });
    const wrapped = wrapModel(half, manifest, { k: 2, source: 'half.onnx' });
    const out = await run(wrapped.bytes, { pixels: new ort.Tensor('uint8', new Uint8Array(5 * 4).fill(200), [1, 5, 2, 2]) });
    expect(out.class_id!.dims).toEqual([1, 2, 2]);
    expect([...(out.class_id!.data as Uint8Array)].every((id) => id >= 1 && id <= 5)).toBe(true);
  });

  it('rejects what it cannot wrap, naming the file', () => {
    const model = randomConvModel({ channels: 5, logits: 19 });
    expect(() => wrapModel(model, manifest, { k: 0, source: 'm.onnx' })).toThrow(/top-k must be an integer from 1 to 5/);
    expect(() => wrapModel(model, manifest, { k: 6, source: 'm.onnx' })).toThrow(/top-k must be an integer from 1 to 5/);
    expect(() => wrapModel(Uint8Array.from([0xff, 0xff, 0xff]), manifest, { k: 2, source: 'bad.onnx' })).toThrow(/^bad\.onnx: not a valid ONNX model/);
    const g = new OnnxGraphBuilder({ channels: 5, size: 64 });
    g.output(g.conv(g.input, { outChannels: 5, weights: new Float32Array(25) }));
    expect(() => wrapModel(g.build(), manifest, { k: 2, source: 'm.onnx', manifestSource: 'dir/model.json' })).toThrow(
      /m\.onnx: input "input" is fixed to 64x64 but dir\/model\.json patch is 32/,
    );
    const twoInputs = edited(model, (m) => {
      (m.graph as onnx.GraphProto).input.push({ name: 'mask', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
    });
    expect(() => wrapModel(twoInputs, manifest, { k: 2, source: 'm.onnx' })).toThrow(/m\.onnx: the graph has inputs besides "input" \(mask\)/);
    const ints = edited(model, (m) => {
      (m.graph as onnx.GraphProto).input[0]!.type!.tensorType!.elemType = onnx.TensorProto.DataType.INT32;
    });
    expect(() => wrapModel(ints, manifest, { k: 2, source: 'm.onnx' })).toThrow(/m\.onnx: input "input" must be float32 or float16/);
    expect(() => wrapModel(model, parseModelManifest(testManifest({ input: 'x' })), { k: 2, source: 'm.onnx' })).toThrow(
      /model\.json: input: "x" is not a graph input of m\.onnx \(it has input\)/,
    );
  });
});
