import { publishedBlock, publishedReport } from '../support/published';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunState } from '../../packages/jobs/src';
import { createRedisConnection, findExecutable, startPrivateRedis, type PrivateRedis } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';
import { checkBlock, wholeMosaicArgmax } from '../support/map-check';
import { checkRunProducts } from '../support/products-check';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';

/**
 * The whole product as separate processes: `fleet enqueue`, two `fleet worker`s and a
 * `fleet merger` against one redis-server, on a 3x2-dalle mosaic with a missing dalle, with
 * a context-free model. Since the model ignores context, the merged map must equal the
 * argmax of the model run over the whole mosaic at once, pixel for pixel, and every block
 * must carry its input dalle's georeferencing.
 */
describe('pipeline end to end (separate processes)', () => {
  let root: string;
  let redis: PrivateRedis;
  let mosaic: StackFixture;
  let expected: Uint8Array;
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-e2e-'));
    redis = await startPrivateRedis();
    mosaic = await writeStackMosaic(join(root, 'stack'), 3, 2, 400, 300, ['D-2-1']);
    expected = await wholeMosaicArgmax(mosaic, writePerPixelModel(join(root, 'model'), 7));
  });

  afterAll(async () => {
    await Promise.all(procs.map(stopFleet));
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('merges a map equal to the whole-mosaic argmax, georeferenced like the input', async () => {
    const env = { REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: 'e2e', FLEET_BATCH_SIZE: '2', FLEET_THREADS: '1' };
    const out = join(root, 'out');
    const args = ['--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out, '--overlap', '128'];

    const first = await runFleet(['enqueue', ...args], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const enqueued = JSON.parse(first.stdout) as { runId: string; created: boolean; submitted: number; windows: number; blocks: number };
    // 1200 x 600 px: columns at 0, 384, 688 and rows at 0, 88 -> 6 windows, all touching a dalle
    expect(enqueued).toMatchObject({ created: true, submitted: 6, windows: 6, blocks: 5 });

    // enqueueing the same run again adds nothing
    const again = JSON.parse((await runFleet(['enqueue', ...args], env)).stdout) as typeof enqueued;
    expect(again).toMatchObject({ runId: enqueued.runId, created: false });

    procs.push(startFleet(['worker'], env), startFleet(['worker'], env), startFleet(['merger'], env));
    const connection = createRedisConnection(redis.url);
    const state = new RunState(connection, 'e2e', enqueued.runId);
    try {
      const deadline = Date.now() + 90_000;
      while ((await state.progress())?.status !== 'done') {
        if (Date.now() > deadline) throw new Error(`run did not finish: ${JSON.stringify(await state.progress())}\n${procs.map((p) => p.stderr()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const status = await runFleet(['status', enqueued.runId], env);
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'done', windows: 6, done: 6, failed: 0, blocks: 5, blocksMerged: 5 });
    } finally {
      connection.disconnect();
    }

    // graceful scale-down: SIGTERM -> exit 0
    expect(await Promise.all(procs.splice(0).map(stopFleet))).toEqual([0, 0, 0]);

    // every block: the input dalle's grid, the whole-mosaic argmax inside it
    for (const d of mosaic.dalles) {
      const block = await checkBlock(publishedBlock(out, `${d.name}`), d, mosaic.width, expected);
      expect([d.name, block.width, block.height, block.epsg, block.noData, block.mismatches]).toEqual([d.name, d.width, d.height, 2154, 0, 0]);
      expect(block.geoTransform).toEqual([ORIGIN[0] + d.x * RES, RES, 0, ORIGIN[1] - d.y * RES, 0, -RES]);
    }
    expect(existsSync(publishedBlock(out, 'D-2-1'))).toBe(false);

    const report = publishedReport(out);
    expect(report).toMatchObject({ runId: enqueued.runId, complete: true, windows: { total: 6, done: 6, skipped: 0, failed: 0 } });
    expect(report.bytes.perWindow).toBeGreaterThan(0);
    const covered = mosaic.covered.reduce((a, b) => a + b, 0);
    const classified = report.classes.reduce((a: number, c: { pixels: number }) => a + c.pixels, 0);
    expect(classified).toBe(covered);

    // per-run products, and the mask tiles gone once merged (FLEET_KEEP_TILES unset)
    await checkRunProducts((key) => Promise.resolve(readFileSync(join(out, key))), report, { width: 1200, height: 600 });
    expect(report.maskTiles).toEqual({ removed: true, remaining: 0 });
    expect(existsSync(join(out, '_work', enqueued.runId, 'tiles')) && readdirSync(join(out, '_work', enqueued.runId, 'tiles')).length).toBeFalsy();

    if (findExecutable('gdalinfo')) {
      const info = JSON.parse(execFileSync('gdalinfo', ['-json', join(out, 'mosaic.vrt')], { encoding: 'utf8' }));
      expect(info.size).toEqual([1200, 600]);
      expect(info.geoTransform).toEqual([ORIGIN[0], RES, 0, ORIGIN[1], 0, -RES]);
      expect(info.coordinateSystem.wkt).toMatch(/Lambert-93/);
      expect(info.bands[0].colorTable.entries[1]).toEqual([219, 14, 154, 255]);
      // every block is a cloud optimized GeoTIFF by GDAL's own validator
      for (const d of mosaic.dalles) {
        const cog = execFileSync('/usr/bin/python3', ['-m', 'osgeo_utils.samples.validate_cloud_optimized_geotiff', '--full-check=yes', publishedBlock(out, `${d.name}`)], { encoding: 'utf8' });
        expect(cog).toContain('is a valid cloud optimized GeoTIFF');
      }
    } else {
      console.warn('gdalinfo not on PATH: skipping the GDAL check of mosaic.vrt (CI installs gdal-bin)');
    }
  }, 180_000);
});
