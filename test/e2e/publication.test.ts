/**
 * Versioned publication with real processes: two nights into the same output publish run 2
 * through current.json (mosaic.vrt points into runs/<run2>/, run 1 kept under FLEET_KEEP_RUNS),
 * changes.json says what run 2 gained and lost against run 1; with FLEET_KEEP_RUNS=1 run 1's
 * objects go; a night whose merges fail for good leaves current.json and mosaic.vrt as they were.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGeoTiff } from '../../packages/raster/src';
import { runFleet } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import { runReport } from '../support/published';
import { testRedisUrl, uniquePrefix } from '../support/redis';

jest.setTimeout(300_000);

const SIZE = 200;
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** Re-delivers dalle (dx, dy) of the fixture with inverted pixels: another version, other classes. */
async function invertDalle(dir: string, fixture: StackFixture, dx: number, dy: number): Promise<void> {
  const planes = fixture.planes.map((plane) => {
    const dalle = new Uint8Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) dalle[y * SIZE + x] = 255 - plane[(dy * SIZE + y) * fixture.width + dx * SIZE + x]!;
    return dalle;
  });
  const gt: [number, number, number, number, number, number] = [ORIGIN[0] + dx * SIZE * RES, RES, 0, ORIGIN[1] - dy * SIZE * RES, 0, -RES];
  await writeGeoTiff(join(dir, `D-${dx}-${dy}.tif`), { width: SIZE, height: SIZE, bands: 5, tileSize: 128, epsg: 2154, geoTransform: gt }, planes);
}

describe('versioned publication (real processes)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fleet-publication-'));
    writePerPixelModel(join(root, 'model'), 5);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const night = async (stack: string, out: string, extraEnv: Record<string, string>, extraArgs: string[] = []) => {
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('publication'), FLEET_THREADS: '1', TMPDIR: root, ...extraEnv };
    const r = await runFleet(['run', '--stack', stack, '--model', join(root, 'model'), '--out', out, '--overlap', '64', ...extraArgs], env);
    return { ...r, runId: /^run (run-[0-9a-f]{12}):/m.exec(r.stdout)?.[1] };
  };

  it('night 2 is published through current.json, run 1 kept (KEEP_RUNS=2), changes.json against run 1 with consistent hectares', async () => {
    const stack = join(root, 'stack-a');
    const fixture = await writeStackMosaic(stack, 2, 2, SIZE, SIZE);
    const out = join(root, 'out-a');
    const night1 = await night(stack, out, { FLEET_KEEP_RUNS: '2' });
    expect(night1.code).toBe(0);
    await invertDalle(stack, fixture, 0, 0);
    const night2 = await night(stack, out, { FLEET_KEEP_RUNS: '2' });
    expect(night2.code).toBe(0);
    const [run1, run2] = [night1.runId!, night2.runId!];
    expect(run2).not.toBe(run1);
    expect(night2.stdout).toContain(`report: ${join(out, 'runs', run2, 'run.json')}`);

    const current = readJson(join(out, 'current.json'));
    expect(current).toMatchObject({ runId: run2, previous: run1, report: `runs/${run2}/run.json`, manifest: `runs/${run2}/manifest.json`, history: [run2, run1] });
    expect(readdirSync(join(out, 'runs')).sort()).toEqual([run1, run2].sort());
    expect(existsSync(join(out, 'runs', run1, 'run.json'))).toBe(true);
    expect(readdirSync(join(out, 'runs', run1, 'blocks')).sort()).toEqual(['D-0-0.tif', 'D-0-1.tif', 'D-1-0.tif', 'D-1-1.tif']);

    // mosaic.vrt opens with GDAL and reads run 2's blocks only
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', join(out, 'mosaic.vrt')], { encoding: 'utf8' }));
    expect(info.size).toEqual([2 * SIZE, 2 * SIZE]);
    const files = (info.files as string[]).filter((f) => f.endsWith('.tif'));
    expect(files).toHaveLength(4);
    for (const f of files) expect(f).toContain(join('runs', run2, 'blocks'));

    // changes.json: the dalle re-delivered, its block's pixels changed, the others not
    const changes = readJson(join(out, 'runs', run2, 'changes.json'));
    expect(changes.previous).toBe(run1);
    expect(Object.values(changes.dalles as Record<string, { changed: string[]; added: string[]; removed: string[] }>)).toEqual([{ changed: [expect.stringMatching(/D-0-0\.tif$/)], added: [], removed: [] }]);
    expect(changes.blocks['D-0-0'].changedPixels).toBeGreaterThan(0);
    for (const id of ['D-0-1', 'D-1-0', 'D-1-1']) expect(changes.blocks[id]).toEqual({ gainedHa: {}, lostHa: {}, changedPixels: 0, status: 'compared' });
    // per class: gained - lost = run 2's area - run 1's (exact in pixels: 20 cm pixels, 0.000004 ha each)
    const [report1, report2] = [runReport(out, run1), runReport(out, run2)];
    const pixels = (r: { classes: Array<{ id: number; pixels: number }> }, id: number) => r.classes.find((c) => c.id === id)?.pixels ?? 0;
    for (const id of new Set([...report1.classes, ...report2.classes].map((c: { id: number }) => c.id))) {
      const net = (changes.total.gainedHa[String(id)] ?? 0) - (changes.total.lostHa[String(id)] ?? 0);
      expect(net).toBeCloseTo(((pixels(report2, id) - pixels(report1, id)) * RES * RES) / 10_000, 3);
    }
    expect(readJson(join(out, 'runs', run2, 'stac', 'items', 'D-0-0.json')).properties['fleet:changes']).toMatchObject({ since: run1, changed_pixels: changes.blocks['D-0-0'].changedPixels });
    expect(readFileSync(join(out, 'runs', run2, 'changes.png')).subarray(1, 4).toString()).toBe('PNG');
    // the console's change layer: a legend-free mask over the mosaic's extent
    expect(readFileSync(join(out, 'runs', run2, 'changes-mask.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(changes.epsg).toBe(2154);
    expect(changes.extent).toHaveLength(4);
    expect(changes.extent[2]).toBeGreaterThan(changes.extent[0]);
    expect(changes.extent[3]).toBeGreaterThan(changes.extent[1]);
    expect(readJson(join(out, 'runs', run2, 'manifest.json'))).toMatchObject({ runId: run2, previous: run1, blocks: { 'D-0-0': `runs/${run2}/blocks/D-0-0.tif` } });
  });

  it('KEEP_RUNS=1 deletes run 1 once run 2 is published; a night whose merges fail for good keeps current.json and says which map stays', async () => {
    const stack = join(root, 'stack-b');
    const fixture = await writeStackMosaic(stack, 2, 2, SIZE, SIZE);
    const out = join(root, 'out-b');
    const night1 = await night(stack, out, { FLEET_KEEP_RUNS: '1' });
    expect(night1.code).toBe(0);
    await invertDalle(stack, fixture, 1, 1);
    const night2 = await night(stack, out, { FLEET_KEEP_RUNS: '1' });
    expect(night2.code).toBe(0);
    const [run1, run2] = [night1.runId!, night2.runId!];
    // every object of run 1 deleted (a local output keeps the empty folders: S3 has none)
    const filesUnder = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile());
    expect(filesUnder(join(out, 'runs', run1))).toEqual([]);
    expect(filesUnder(join(out, 'runs', run2)).length).toBeGreaterThan(4);
    expect(readJson(join(out, 'current.json'))).toMatchObject({ runId: run2, previous: run1, history: [run2] });
    // run 1's spec stays in _work (the next refresh's comparison is against run 2's anyway)

    // night 3: another dalle changed, and its blocks cannot be written (a file where its run folder goes)
    const currentBefore = readFileSync(join(out, 'current.json'));
    const vrtBefore = readFileSync(join(out, 'mosaic.vrt'));
    await invertDalle(stack, fixture, 0, 1);
    writeFileSync(join(out, 'runs', 'night-3'), 'a file where run night-3 writes its blocks: every merge fails');
    const night3 = await night(stack, out, { FLEET_KEEP_RUNS: '1', LOG_LEVEL: 'info' }, ['--run-id', 'night-3']);
    expect(night3.code).toBe(1);
    expect(night3.stderr).toMatch(new RegExp(`^fleet run: block \\S+ failed for good: .+; the published map is still run ${run2}'s \\(published [^)]+\\): current.json and mosaic.vrt are unchanged$`, 'm'));
    expect(readFileSync(join(out, 'current.json'))).toEqual(currentBefore);
    expect(readFileSync(join(out, 'mosaic.vrt'))).toEqual(vrtBefore);
    expect(readdirSync(join(out, 'runs')).sort()).toEqual(['night-3', run1, run2].sort());
  });
});
