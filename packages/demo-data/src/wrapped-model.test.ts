import * as ort from 'onnxruntime-node';
import { argmaxClassIds, inferWholeImage, wrapModel, type ModelManifest } from '@fleet/model';
import { stackBands } from './band-stack';
import { buildDemoModel } from './demo-model';
import { generateLandscape } from './landscape';
import { buildPerPixelModel } from './per-pixel-model';

const W = 300;
const H = 200;
const K = 3;

/**
 * The JS reference of the wrapper's postprocessing, from the raw model's logits: softmax over the
 * manifest's classes (float64), ranks by probability with the class listed first winning ties,
 * round(p * 255).
 */
function referenceTopK(logits: Float32Array, pixels: number, manifest: ModelManifest, k: number): { ids: Uint8Array; probs: Float64Array } {
  const ids = new Uint8Array(k * pixels);
  const probs = new Float64Array(k * pixels);
  const C = manifest.classes.length;
  const e = new Float64Array(C);
  for (let p = 0; p < pixels; p++) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[manifest.classes[c]!.logit * pixels + p]!);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += e[c] = Math.exp(logits[manifest.classes[c]!.logit * pixels + p]! - max);
    const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => e[b]! - e[a]! || a - b);
    for (let r = 0; r < k; r++) {
      ids[r * pixels + p] = manifest.classes[order[r]!]!.id;
      probs[r * pixels + p] = e[order[r]!]! / sum;
    }
  }
  return { ids, probs };
}

async function runWrapped(bytes: Uint8Array, input: Uint8Array): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ pixels: new ort.Tensor('uint8', input, [1, 5, H, W]) });
  } finally {
    await session.release();
  }
}

describe('wrapped model (normalisation, argmax, softmax, top-k in the graph)', () => {
  const { planes } = generateLandscape({ width: W, height: H, seed: 5 });
  const input = stackBands(planes);
  const pixels = W * H;

  it.each([
    ['per-pixel model', buildPerPixelModel(11)],
    ['demo model (3x3 context)', buildDemoModel()],
  ])('%s: class ids identical to the JS argmax of its raw logits, probabilities within 1/255', async (_name, model) => {
    const logits = await inferWholeImage(model.onnx, model.manifest, input, W, H);
    const expectedIds = argmaxClassIds(logits, 19, model.manifest);
    const ref = referenceTopK(logits, pixels, model.manifest, K);

    const wrapped = wrapModel(model.onnx, model.manifest, { k: K, source: 'model.onnx' });
    expect(wrapped.logitCount).toBe(19);
    const out = await runWrapped(wrapped.bytes, input);
    expect(out.class_id!.dims).toEqual([1, H, W]);
    expect(out.top_ids!.dims).toEqual([1, K, H, W]);
    expect(out.top_probs!.dims).toEqual([1, K, H, W]);
    const classIds = out.class_id!.data as Uint8Array;
    const topIds = out.top_ids!.data as Uint8Array;
    const topProbs = out.top_probs!.data as Uint8Array;

    let idMismatches = 0;
    for (let p = 0; p < pixels; p++) if (classIds[p] !== expectedIds[p]) idMismatches++;
    expect(idMismatches).toBe(0);
    expect(new Set(classIds).size).toBeGreaterThan(2); // several classes win, so the comparison means something

    let worstProb = 0;
    let rankSwaps = 0;
    for (let r = 0; r < K; r++) {
      for (let p = 0; p < pixels; p++) {
        const i = r * pixels + p;
        worstProb = Math.max(worstProb, Math.abs(topProbs[i]! - ref.probs[i]! * 255));
        if (topIds[i] !== ref.ids[i]) {
          // only where two classes' probabilities are equal to float32 precision may the order differ
          const other = r + 1 < K ? ref.probs[i + pixels]! : ref.probs[i - pixels]!;
          expect(Math.abs(ref.probs[i]! - other)).toBeLessThan(1e-6);
          rankSwaps++;
        }
      }
    }
    // rank 0 of the top-k is the argmax
    for (let p = 0; p < pixels; p++) if (topIds[p] !== classIds[p]) rankSwaps++;
    console.log(`${_name}: worst |prob - 255 p| = ${worstProb.toFixed(3)}, ${rankSwaps} rank swaps at float ties of ${pixels * K}`);
    expect(worstProb).toBeLessThanOrEqual(1);
    expect(rankSwaps).toBeLessThanOrEqual(Math.ceil(pixels * K * 1e-4));
    // probabilities of the kept ranks never exceed 255 in total (rounding aside)
    let worstSum = 0;
    for (let p = 0; p < pixels; p++) {
      let s = 0;
      for (let r = 0; r < K; r++) s += topProbs[r * pixels + p]!;
      worstSum = Math.max(worstSum, s);
    }
    expect(worstSum).toBeLessThanOrEqual(255 + K);
  });
});
