import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceEngine, parseModelManifest } from '@fleet/model';
import { cutPatch } from './band-stack';
import { buildDemoModel, writeDemoModel } from './demo-model';
import { generateLandscape } from './landscape';

const SIZE = 1024;
const PATCH = 512;

describe('demo model', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-model-'));
    await writeDemoModel(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is deterministic and carries the FLAIR-INC manifest', async () => {
    const manifest = parseModelManifest(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')));
    const flair = parseModelManifest(JSON.parse(await readFile(join(__dirname, '../../../models/flair-inc/model.json'), 'utf8')));
    expect(manifest.classes).toEqual(flair.classes);
    expect(manifest.mean).toEqual(flair.mean);
    expect(manifest.std).toEqual(flair.std);
    expect(manifest.bands).toEqual(flair.bands);
    expect(Buffer.from(await readFile(join(dir, 'model.onnx'))).equals(Buffer.from(buildDemoModel().onnx))).toBe(true);
  });

  it.each([42, 7])('agrees with the ground truth on >= 80%% of landscape %i, which it was not fitted on', async (seed) => {
    const { planes, truth } = generateLandscape({ width: SIZE, height: SIZE, seed });
    const engine = await InferenceEngine.load(dir, { batchSize: 4 });
    expect(engine.logitCount).toBe(19);
    const corners: Array<[number, number]> = [];
    for (let y = 0; y < SIZE; y += PATCH) for (let x = 0; x < SIZE; x += PATCH) corners.push([x, y]);
    const outputs = await Promise.all(corners.map(([x, y]) => engine.infer(cutPatch(planes, SIZE, SIZE, x, y, PATCH))));
    const stats = engine.stats();
    await engine.close();

    let agree = 0;
    const perClass = new Map<number, [number, number]>();
    corners.forEach(([x0, y0], i) => {
      const ids = outputs[i]!.classIds;
      for (let y = 0; y < PATCH; y++) {
        for (let x = 0; x < PATCH; x++) {
          const t = truth[(y0 + y) * SIZE + x0 + x]!;
          const ok = ids[y * PATCH + x] === t ? 1 : 0;
          agree += ok;
          const c = perClass.get(t) ?? [0, 0];
          perClass.set(t, [c[0] + ok, c[1] + 1]);
        }
      }
    });
    const agreement = agree / (SIZE * SIZE);
    const recall = [...perClass.entries()].sort((a, b) => a[0] - b[0]).map(([id, [ok, all]]) => `${id}:${((100 * ok) / all).toFixed(0)}%`);
    console.log(
      `seed ${seed}: demo model agreement ${(100 * agreement).toFixed(2)}% (recall ${recall.join(' ')}); ` +
        `${(stats.runMs / stats.windows).toFixed(0)} ms per ${PATCH}x${PATCH} patch on CPU (batch 4)`,
    );
    expect(agreement).toBeGreaterThanOrEqual(0.8);
  });
});
