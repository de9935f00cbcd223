import { publishedBlock, publishedReport } from '../support/published';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet } from '../support/fleet-process';
import { checkBlock, wholeMosaicArgmax } from '../support/map-check';
import { checkRunProducts } from '../support/products-check';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';

/**
 * `fleet run` as a user types it, on one file smaller than a model window (the window is
 * padded for the model and cropped back), with no REDIS_URL: it starts and stops its own
 * redis-server, runs a worker process and the merger, and exits 0 with the map's location.
 */
describe('fleet run on a mosaic smaller than a window', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fleet-small-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps a single 300x200 file exactly', async () => {
    const mosaic = await writeStackMosaic(join(root, 'in'), 1, 1, 300, 200);
    const model = writePerPixelModel(join(root, 'model'), 3);
    const out = join(root, 'out');
    const result = await runFleet(['run', '--stack', join(mosaic.dir, 'D-0-0.tif'), '--model', join(root, 'model'), '--out', out], {});
    expect(result.stderr).toMatch(/REDIS_URL unset: started a private redis-server at redis:\/\/127\.0\.0\.1:\d+/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`map:    ${join(out, 'mosaic.vrt')}`);
    expect(result.stdout).toMatch(/1 windows inferred, 0 without data, 0 failed, 1 block\(s\)/);

    const block = await checkBlock(publishedBlock(out, 'D-0-0'), mosaic.dalles[0]!, 300, await wholeMosaicArgmax(mosaic, model));
    expect([block.width, block.height, block.mismatches]).toEqual([300, 200, 0]);

    const report = publishedReport(out);
    expect(report.windows).toMatchObject({ total: 1, done: 1 });
    // one padded 512 px window for 300 x 200 px
    expect(report.computeFactor).toBeCloseTo((512 * 512) / (300 * 200), 2);
    const products = await checkRunProducts((key) => Promise.resolve(readFileSync(join(out, key))), report, { width: 300, height: 200 });
    expect(products.quicklook.height).toBeGreaterThanOrEqual(200);
    expect(report.maskTiles).toEqual({ removed: true, remaining: 0 });
  }, 120_000);
});
