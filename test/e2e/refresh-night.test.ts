/**
 * The nightly refresh with real processes (worker, merger, Redis, ONNX): night 2 re-infers
 * only the windows meeting what changed and carries the rest over, and its map is pixel for
 * pixel (and class area for class area) the map a from-scratch run on the same inputs makes;
 * a night where nothing changed infers nothing and republishes nothing; new weights under the
 * same model name and version recompute everything.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPerPixelModel } from '../../packages/demo-data/src';
import { openGeoTiff, writeGeoTiff } from '../../packages/raster/src';
import { runFleet } from '../support/fleet-process';
import { publishedReport } from '../support/published';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';

jest.setTimeout(900_000);

const DALLE = 1000;

interface Report {
  runId: string;
  complete: boolean;
  windows: { total: number; done: number };
  classes: Array<{ id: number; pixels: number }>;
  blocks: Array<{ id: string; key: string; pixels: Record<string, number> }>;
}

/** The published run's report: current.json -> runs/<runId>/run.json. */
const reportOf = (out: string) => publishedReport(out) as Report;

/** Every published block's full-resolution classes, by block id. */
async function blockPixels(out: string): Promise<Map<string, Buffer>> {
  const blocks = new Map<string, Buffer>();
  for (const b of reportOf(out).blocks) {
    const raster = await openGeoTiff(join(out, b.key));
    try {
      const [band] = await raster.readWindow({ x: 0, y: 0, width: raster.width, height: raster.height });
      blocks.set(b.id, Buffer.from(band!));
    } finally {
      await raster.close();
    }
  }
  return blocks;
}

/** The published map of `out` equals `fresh`'s: the same blocks, pixel for pixel, the same class areas, the same VRT checksum. */
async function expectSameMap(out: string, fresh: string): Promise<void> {
  const [mine, theirs] = await Promise.all([blockPixels(out), blockPixels(fresh)]);
  expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [id, pixels] of mine) expect([id, pixels.equals(theirs.get(id)!)]).toEqual([id, true]);
  expect(reportOf(out).classes.map((c) => [c.id, c.pixels])).toEqual(reportOf(fresh).classes.map((c) => [c.id, c.pixels]));
  const checksum = (dir: string) => /Checksum=(\d+)/.exec(execFileSync('gdalinfo', ['-checksum', join(dir, 'mosaic.vrt')], { encoding: 'utf8' }))?.[1];
  expect(checksum(out)).toBeDefined();
  expect(checksum(out)).toBe(checksum(fresh));
}

describe('a refresh night (real processes)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fleet-refresh-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('night 2 (one dalle with new pixels, one added, one removed) infers fewer windows and publishes the fresh run\'s map; night 4 (new weights, same name and version) recomputes everything', async () => {
    const dir = join(root, 'stack');
    // 3x3 dalles of 1000 px, D-2-2 not delivered yet
    const fixture = await writeStackMosaic(dir, 3, 3, DALLE, DALLE, ['D-2-2']);
    writePerPixelModel(join(root, 'model'), 5);
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('refresh'), FLEET_THREADS: '1', TMPDIR: root, LOG_LEVEL: 'info' };
    const run = async (stack: string, out: string) => {
      const r = await runFleet(['run', '--stack', stack, '--model', join(root, 'model'), '--out', out], env);
      expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
      const m = /^run (run-[0-9a-f]{12}): (\d+) windows inferred/m.exec(r.stdout);
      expect(m).not.toBeNull();
      return { runId: m![1]!, inferred: Number(m![2]) };
    };
    const out = join(root, 'out');
    const night1 = await run(dir, out);

    // D-0-0 re-delivered with other pixels, D-2-2 delivered, D-2-0 withdrawn
    const planes = fixture.planes.map((plane) => {
      const dalle = new Uint8Array(DALLE * DALLE);
      for (let y = 0; y < DALLE; y++) for (let x = 0; x < DALLE; x++) dalle[y * DALLE + x] = 255 - plane[y * fixture.width + x]!;
      return dalle;
    });
    await writeGeoTiff(join(dir, 'D-0-0.tif'), { width: DALLE, height: DALLE, bands: 5, tileSize: 128, epsg: 2154, geoTransform: [ORIGIN[0], RES, 0, ORIGIN[1], 0, -RES] }, planes);
    await writeStackMosaic(join(root, 'stack-full'), 3, 3, DALLE, DALLE);
    copyFileSync(join(root, 'stack-full', 'D-2-2.tif'), join(dir, 'D-2-2.tif'));
    rmSync(join(dir, 'D-2-0.tif'));

    const night2 = await run(dir, out);
    expect(night2.runId).not.toBe(night1.runId);
    const spec2 = JSON.parse(readFileSync(join(out, '_work', night2.runId, 'spec.json'), 'utf8')) as { windowCount: number; refresh?: { previousRunId: string; carriedWindows: number; carried: unknown[] } };
    expect(spec2.refresh?.previousRunId).toBe(night1.runId);
    const fresh2 = await run(dir, join(root, 'fresh-2'));
    // fewer windows inferred than a full run on the same inputs; the rest carried over
    expect(night2.inferred).toBe(spec2.windowCount);
    expect(night2.inferred).toBeLessThan(fresh2.inferred);
    expect(night2.inferred + spec2.refresh!.carriedWindows).toBe(fresh2.inferred);
    expect(spec2.refresh!.carried.length).toBeGreaterThan(0);
    expect(reportOf(out)).toMatchObject({ runId: night2.runId, complete: true, windows: { total: night2.inferred, done: night2.inferred } });
    await expectSameMap(out, join(root, 'fresh-2'));
    process.stderr.write(`refresh night 2 on 3x3 x ${DALLE} px: ${night2.inferred} of ${fresh2.inferred} windows inferred, ${spec2.refresh!.carried.length} blocks carried\n`);

    // night 3: nothing changed: no inference, nothing republished (current.json untouched)
    const current = readFileSync(join(out, 'current.json'));
    const night3 = await runFleet(['run', '--stack', dir, '--model', join(root, 'model'), '--out', out], env);
    expect(night3.code).toBe(0);
    expect(night3.stdout + night3.stderr).toContain(`nothing changed since run ${night2.runId}`);
    expect(readFileSync(join(out, 'current.json')).equals(current)).toBe(true);

    // night 4: the weights replaced, model.json untouched: everything is inferred again
    writeFileSync(join(root, 'model', 'model.onnx'), buildPerPixelModel(6).onnx);
    const night4 = await run(dir, out);
    const spec4 = JSON.parse(readFileSync(join(out, '_work', night4.runId, 'spec.json'), 'utf8')) as { refresh?: unknown };
    expect(spec4.refresh).toBeUndefined();
    const fresh4 = await run(dir, join(root, 'fresh-4'));
    expect(night4.inferred).toBe(fresh4.inferred);
    await expectSameMap(out, join(root, 'fresh-4'));
  });
});
