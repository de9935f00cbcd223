import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGeoTiff } from '../../packages/raster/src';
import { runFleet } from '../support/fleet-process';
import { writeJp2Dalle } from '../support/jp2-fixture';
import { writePerPixelModel } from '../support/model-fixture';

/**
 * BD ORTHO as IGN ships it (RVB and IRC .jp2 dalles) through `fleet prepare`, then the
 * prepared folders straight into `fleet run --rgb --irc`: planning accepts the COGs and the
 * run maps every window.
 */
describe('fleet run on prepared dalles', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fleet-prepare-run-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps the COGs that fleet prepare made', async () => {
    const grid = [
      { name: '92-2024-0645-6865', x: 645_000, y: 6_865_000 },
      { name: '92-2024-0646-6865', x: 645_051.2, y: 6_865_000 },
    ];
    mkdirSync(join(root, 'elevation'));
    for (const [i, d] of grid.entries()) {
      await writeJp2Dalle(join(root, 'rvb', `${d.name}.jp2`), { x: d.x, y: d.y, seed: i });
      await writeJp2Dalle(join(root, 'irc', `${d.name}.jp2`), { x: d.x, y: d.y, seed: 10 + i });
      await writeGeoTiff(join(root, 'elevation', `${d.name}.tif`), { width: 256, height: 256, bands: 1, epsg: 2154, geoTransform: [d.x, 0.2, 0, d.y, 0, -0.2] }, [new Uint8Array(256 * 256).fill(40 + i)]);
    }
    for (const product of ['rvb', 'irc']) {
      const prepared = await runFleet(['prepare', '--src', join(root, product), '--out', join(root, `${product}-cog`)], {});
      expect(prepared.code).toBe(0);
      expect(prepared.stdout).toContain('2 dalle(s): 2 converted');
    }
    writePerPixelModel(join(root, 'model'), 5);
    const out = join(root, 'map');
    const run = await runFleet(
      ['run', '--rgb', join(root, 'rvb-cog'), '--irc', join(root, 'irc-cog'), '--elevation', join(root, 'elevation'), '--model', join(root, 'model'), '--out', out],
      {},
    );
    expect(run.stderr).not.toMatch(/fleet run:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\b\d+ windows inferred, 0 without data, 0 failed/);
    expect(existsSync(join(out, 'mosaic.vrt'))).toBe(true);
  }, 240_000);
});
