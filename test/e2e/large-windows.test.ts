import { publishedBlock, publishedReport } from '../support/published';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet } from '../support/fleet-process';
import { checkBlock, wholeMosaicArgmax } from '../support/map-check';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';

/**
 * FLAIR-INC's window size (models/flair-inc/model.json, patch 1024) through the whole product:
 * `fleet run` at the default overlap on a 2 x 2 mosaic of 1000 px dalles, with a context-free
 * model whose model.json says patch 1024. Windows start at 0, 768 and 976 (the last one snapped
 * inside) on each axis; each 1024 px window spans several of the merger's 512 px output tiles
 * and two or more blocks, so any offset wrong in planning, reading, cropping or blending shows as
 * mismatches against the model run over the whole mosaic at once.
 */
describe('fleet run with 1024 px windows', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fleet-1024-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps a 2000 x 2000 px mosaic exactly, 9 windows', async () => {
    const mosaic = await writeStackMosaic(join(root, 'in'), 2, 2, 1000, 1000);
    const model = writePerPixelModel(join(root, 'model'), 5);
    writeFileSync(join(root, 'model', 'model.json'), JSON.stringify({ ...model.manifest, patch: 1024 }, null, 2));
    const out = join(root, 'out');
    const result = await runFleet(['run', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out], { FLEET_BATCH_SIZE: '2', FLEET_THREADS: '1' });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/9 windows inferred, 0 without data, 0 failed, 4 block\(s\)/);

    const expected = await wholeMosaicArgmax(mosaic, model);
    for (const d of mosaic.dalles) {
      const block = await checkBlock(publishedBlock(out, d.name), d, mosaic.width, expected);
      expect([d.name, block.width, block.height, block.mismatches]).toEqual([d.name, 1000, 1000, 0]);
    }
    const report = publishedReport(out);
    expect(report.windows).toMatchObject({ total: 9, done: 9 });
    expect(report.computeFactor).toBeCloseTo((9 * 1024 * 1024) / (2000 * 2000), 2);
  }, 180_000);
});
