import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmaxClassIds, InferenceEngine, inferWholeImage } from '@fleet/model';
import { cutPatch, stackBands } from './band-stack';
import { generateLandscape } from './landscape';
import { buildPerPixelModel, perPixelArgmax } from './per-pixel-model';

const W = 700;
const H = 600;
const PATCH = 512;

describe('per-pixel model', () => {
  const model = buildPerPixelModel(3);
  const { planes } = generateLandscape({ width: W, height: H, seed: 21 });
  let reference: Uint8Array;

  beforeAll(async () => {
    const logits = await inferWholeImage(model.onnx, model.manifest, stackBands(planes), W, H);
    reference = argmaxClassIds(logits, 19, model.manifest);
  });

  it('is deterministic per seed and exposes the weights it was built with', async () => {
    expect(Buffer.from(buildPerPixelModel(3).onnx).equals(Buffer.from(model.onnx))).toBe(true);
    expect(buildPerPixelModel(4).weights).not.toEqual(model.weights);
    expect(model.weights).toHaveLength(19 * 5);
    expect(model.bias).toHaveLength(19);
  });

  it('patch by patch through the engine gives exactly the whole-mosaic onnxruntime argmax', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'per-pixel-'));
    await writeFile(join(dir, 'model.onnx'), model.onnx);
    await writeFile(join(dir, 'model.json'), JSON.stringify(model.manifest));
    const engine = await InferenceEngine.load(dir, { batchSize: 2 });
    const merged = new Uint8Array(W * H);
    // Patches at an odd offset, overhanging the edges (zero-filled), as a real window plan would.
    const jobs: Array<Promise<void>> = [];
    for (let y0 = -100; y0 < H; y0 += 300) {
      for (let x0 = -100; x0 < W; x0 += 300) {
        jobs.push(
          engine.infer(cutPatch(planes, W, H, x0, y0, PATCH)).then(({ classIds: ids }) => {
            for (let y = Math.max(0, y0); y < Math.min(H, y0 + PATCH); y++) {
              for (let x = Math.max(0, x0); x < Math.min(W, x0 + PATCH); x++) merged[y * W + x] = ids[(y - y0) * PATCH + x - x0]!;
            }
          }),
        );
      }
    }
    await Promise.all(jobs);
    await engine.close();
    await rm(dir, { recursive: true, force: true });
    expect(Buffer.from(merged).equals(Buffer.from(reference))).toBe(true);
  });

  it('perPixelArgmax in JS matches onnxruntime except at float32 near-ties', async () => {
    const js = perPixelArgmax(model, planes);
    let differ = 0;
    js.forEach((id, p) => (differ += id === reference[p] ? 0 : 1));
    console.log(`perPixelArgmax vs onnxruntime: ${differ} of ${js.length} pixels differ`);
    expect(differ).toBeLessThanOrEqual(Math.ceil(js.length * 1e-5));
    // Several classes actually win, so the comparison means something.
    expect(new Set(js).size).toBeGreaterThan(2);
  });
});
