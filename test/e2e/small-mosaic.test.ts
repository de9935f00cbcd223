import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmaxClassIds, inferWholeImage } from '../../packages/model/src';
import { openGeoTiff } from '../../packages/raster/src';
import { runFleet } from '../support/fleet-process';
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

    const input = new Uint8Array(5 * 300 * 200);
    mosaic.planes.forEach((p, b) => input.set(p, b * p.length));
    const expected = argmaxClassIds(await inferWholeImage(model.onnx, model.manifest, input, 300, 200), 19, model.manifest);
    const file = await openGeoTiff(join(out, 'blocks', 'D-0-0.tif'));
    const [classes] = await file.readWindow({ x: 0, y: 0, width: 300, height: 200 });
    await file.close();
    expect([file.width, file.height]).toEqual([300, 200]);
    expect(Buffer.from(classes!).equals(Buffer.from(expected))).toBe(true);

    const report = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(report.windows).toMatchObject({ total: 1, done: 1 });
    // one padded 512 px window for 300 x 200 px
    expect(report.computeFactor).toBeCloseTo((512 * 512) / (300 * 200), 2);
  }, 120_000);
});
