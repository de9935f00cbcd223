/**
 * The nightly refresh's identity with real processes: a night where no dalle, nor the model's
 * bytes, nor the geometry changed starts nothing and rewrites nothing; weights replaced under
 * the same model.json (same name and version) are a new run of every window.
 */
import { publishedReport } from '../support/published';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPerPixelModel } from '../../packages/demo-data/src';
import { runFleet } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic } from '../support/mosaic-fixture';
import { writeGeoTiff } from '../../packages/raster/src';
import { testRedisUrl, uniquePrefix } from '../support/redis';

jest.setTimeout(180_000);

/** Every file under a folder with its modification time (ns), to see that nothing was rewritten. */
function filesWithTimes(dir: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out[path.slice(dir.length + 1)] = statSync(path, { bigint: true }).mtimeNs;
    }
  };
  walk(dir);
  return out;
}

describe('fleet run on unchanged inputs (real processes)', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-unchanged-'));
    await writeStackMosaic(join(root, 'stack'), 2, 2, 200, 200);
    writePerPixelModel(join(root, 'model'), 5);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('night 2 with nothing changed (a dalle touched, hashed inputs) says so, starts nothing, rewrites nothing; new weights under the same name and version recompute every window', async () => {
    const out = join(root, 'out');
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('unchanged'), FLEET_THREADS: '1', FLEET_HASH_INPUTS: '1', TMPDIR: root };
    const args = ['run', '--stack', join(root, 'stack'), '--model', join(root, 'model'), '--out', out, '--overlap', '64'];

    const night1 = await runFleet(args, env);
    expect([night1.code, night1.stderr]).toEqual([0, expect.any(String)]);
    const runId = /^run (run-[0-9a-f]{12}): (\d+) windows inferred/m.exec(night1.stdout)?.[1];
    expect(runId).toBeDefined();
    const published = filesWithTimes(out);
    expect(Object.keys(published)).toEqual(expect.arrayContaining(['current.json', `runs/${runId!}/run.json`, 'mosaic.vrt', `runs/${runId!}/blocks/D-0-0.tif`]));
    const report = readFileSync(join(out, 'runs', runId!, 'run.json'));

    // the same bytes rewritten with a new mtime: with hashed inputs, no change
    const dalle = join(root, 'stack', 'D-1-1.tif');
    writeFileSync(dalle, readFileSync(dalle));
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(dalle, later, later);
    const started = Date.now();
    const night2 = await runFleet(args, env);
    expect([night2.code, night2.stderr]).toEqual([0, '']);
    expect(night2.stdout).toBe(`nothing changed since run ${runId} (published ${JSON.parse(report.toString()).finishedAt as string}): no window inferred, nothing republished; the map is ${join(out, 'mosaic.vrt')}\n`);
    // nothing rewritten or added: no lease, no tile, no log folder for another run
    expect(filesWithTimes(out)).toEqual(published);
    expect(readFileSync(join(out, 'runs', runId!, 'run.json'))).toEqual(report);
    expect(existsSync(join(root, 'fleet-logs'))).toBe(true);
    expect(readdirSync(join(root, 'fleet-logs'))).toEqual([runId]);
    process.stderr.write(`unchanged night: fleet run answered in ${Date.now() - started} ms\n`);

    // the weights replaced, model.json untouched (same name, same version): a new run of everything
    const json = readFileSync(join(root, 'model', 'model.json'));
    writeFileSync(join(root, 'model', 'model.onnx'), buildPerPixelModel(6).onnx);
    expect(readFileSync(join(root, 'model', 'model.json'))).toEqual(json);
    const night3 = await runFleet(args, env);
    expect(night3.code).toBe(0);
    const rerun = /^run (run-[0-9a-f]{12}): (\d+) windows inferred/m.exec(night3.stdout);
    expect(rerun?.[1]).not.toBe(runId);
    const first = /^run run-[0-9a-f]{12}: (\d+) windows inferred/m.exec(night1.stdout)![1];
    expect(rerun?.[2]).toBe(first);
    expect(publishedReport(out).runId).toBe(rerun?.[1]);
  });

  it('night 2 (one dalle re-delivered with other pixels, one added, one removed) logs what changed since the published run and what the refresh plan re-infers', async () => {
    const dir = join(root, 'stack-3x3');
    const fixture = await writeStackMosaic(dir, 3, 3, 400, 400, ['D-2-2']);
    const out = join(root, 'out-3x3');
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('refresh'), FLEET_THREADS: '1', TMPDIR: root, LOG_LEVEL: 'info' };
    const args = ['run', '--stack', dir, '--model', join(root, 'model'), '--out', out, '--overlap', '64'];
    const night1 = await runFleet(args, env);
    expect(night1.code).toBe(0);
    const first = /^run (run-[0-9a-f]{12})/m.exec(night1.stdout)![1]!;
    expect(existsSync(join(out, '_work', first, 'spec.json'))).toBe(true);

    // D-0-0 re-delivered with other pixels (inverted), D-2-2 delivered, D-1-0 withdrawn
    const planes = fixture.planes.map((plane) => {
      const dalle = new Uint8Array(400 * 400);
      for (let y = 0; y < 400; y++) for (let x = 0; x < 400; x++) dalle[y * 400 + x] = 255 - plane[y * fixture.width + x]!;
      return dalle;
    });
    await writeGeoTiff(join(dir, 'D-0-0.tif'), { width: 400, height: 400, bands: 5, tileSize: 128, epsg: 2154, geoTransform: [ORIGIN[0], RES, 0, ORIGIN[1], 0, -RES] }, planes);
    await writeStackMosaic(join(root, 'stack-3x3-full'), 3, 3, 400, 400);
    copyFileSync(join(root, 'stack-3x3-full', 'D-2-2.tif'), join(dir, 'D-2-2.tif'));
    rmSync(join(dir, 'D-1-0.tif'));

    const night2 = await runFleet(args, env);
    expect(night2.code).toBe(0);
    const second = /^run (run-[0-9a-f]{12}): (\d+) windows inferred/m.exec(night2.stdout)!;
    expect(second[1]).not.toBe(first);
    const log = readFileSync(join(root, 'fleet-logs', second[1]!, 'coordinator-merger.log'), 'utf8')
      .split('\n').filter((l) => l.includes('refresh against the published run')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log).toHaveLength(1);
    // the planned run's windows, of which the refresh infers only those the plan re-infers
    expect(log[0]).toMatchObject({ previousRunId: first, changed: ['stack/D-0-0.tif'], added: ['stack/D-2-2.tif'], removed: ['stack/D-1-0.tif'], reinferPlanned: Number(second[2]) });
    expect(log[0]!.reinferPlanned as number).toBeLessThanOrEqual(log[0]!.windows as number);
    process.stderr.write(`refresh night 2 on 3x3 x 400 px (overlap 64): refresh plan re-infers ${String(log[0]!.reinferPlanned)} of ${second[2]} windows, ${String(log[0]!.blocksRemerged)} blocks re-merged, ${String(log[0]!.blocksCarried)} carried\n`);
  });
});
