import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { createRedisConnection } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet } from '../support/fleet-process';
import { differingPixels, gdalInfo, writeJp2Dalle } from '../support/jp2-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';

const X0 = 645_000;
const Y0 = 6_865_000;
/** The three dalles of the local source: nested folders and any-case extensions are kept. */
const DALLES = [
  { key: '92-2024-0645-6865.jp2', x: X0, y: Y0 },
  { key: 'sub/92-2024-0646-6865.JP2', x: X0 + 51.2, y: Y0 },
  { key: '92-2024-0645-6864.jp2', x: X0, y: Y0 - 51.2 },
];
const cogOf = (key: string) => key.replace(/\.jp2$/i, '.tif');

/** The COG is a COG, with the dalle's size, georeferencing and pixels, and the source's version. */
function expectFaithfulCog(jp2: string, cog: string): void {
  const source = gdalInfo(jp2);
  const out = gdalInfo(cog);
  expect(out.layout).toBe('COG');
  expect(out.size).toEqual(source.size);
  expect(out.bands).toBe(3);
  expect(out.geoTransform).toEqual(source.geoTransform);
  expect(out.epsg).toBe('2154');
  expect(out.metadata.FLEET_SOURCE_VERSION).toMatch(/.+-\d+$/);
  expect(differingPixels(jp2, cog)).toBe(0);
}

describe('fleet prepare on a local folder (private redis-server)', () => {
  let root: string;
  let src: string;
  let out: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-prepare-'));
    src = join(root, 'jp2');
    out = join(root, 'cog');
    for (const [i, d] of DALLES.entries()) await writeJp2Dalle(join(src, d.key), { x: d.x, y: d.y, seed: i });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('converts every dalle to a faithful COG', async () => {
    const result = await runFleet(['prepare', '--src', src, '--out', out, '--workers', '2'], {});
    expect(result.stderr).toMatch(/REDIS_URL unset: started a private redis-server/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('3 dalle(s): 3 converted, 0 already prepared (skipped), 0 failed');
    for (const d of DALLES) expectFaithfulCog(join(src, d.key), join(out, cogOf(d.key)));
    const record = JSON.parse(readFileSync(join(out, `${cogOf(DALLES[1]!.key)}.fleet-source.json`), 'utf8'));
    expect(record).toMatchObject({ source: join(src, DALLES[1]!.key), sourceVersion: gdalInfo(join(out, cogOf(DALLES[1]!.key))).metadata.FLEET_SOURCE_VERSION });
  }, 120_000);

  it('skips every dalle on a second run', async () => {
    const before = DALLES.map((d) => readFileSync(join(out, cogOf(d.key))));
    const result = await runFleet(['prepare', '--src', src, '--out', out], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('3 dalle(s): 0 converted, 3 already prepared (skipped), 0 failed');
    DALLES.forEach((d, i) => expect(readFileSync(join(out, cogOf(d.key))).equals(before[i]!)).toBe(true));
  }, 120_000);

  it('redoes a dalle that changed, and only that one', async () => {
    const changed = DALLES[1]!;
    await writeJp2Dalle(join(src, changed.key), { x: changed.x, y: changed.y, seed: 42 });
    const result = await runFleet(['prepare', '--src', src, '--out', out], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('3 dalle(s): 1 converted, 2 already prepared (skipped), 0 failed');
    expectFaithfulCog(join(src, changed.key), join(out, cogOf(changed.key)));
  }, 120_000);

  it('converts a single .jp2 named on the command line', async () => {
    const single = join(root, 'single');
    const result = await runFleet(['prepare', '--src', join(src, DALLES[0]!.key), '--out', single], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 dalle(s): 1 converted');
    expectFaithfulCog(join(src, DALLES[0]!.key), join(single, cogOf(DALLES[0]!.key)));
  }, 120_000);

  it('fails on a corrupt dalle, naming it, and still converts the others', async () => {
    const bad = join(root, 'bad');
    await writeJp2Dalle(join(bad, 'good.jp2'), { x: X0, y: Y0 });
    // a download cut short: the JPEG 2000 header is intact, the code-stream is not
    await writeJp2Dalle(join(root, 'whole.jp2'), { x: X0, y: Y0, seed: 3 });
    writeFileSync(join(bad, 'broken.jp2'), readFileSync(join(root, 'whole.jp2')).subarray(0, 2000));
    const result = await runFleet(['prepare', '--src', bad, '--out', join(root, 'bad-out')], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('fleet prepare: 1 dalle(s) failed: broken.jp2');
    expect(result.stdout).toContain('2 dalle(s): 1 converted, 0 already prepared (skipped), 1 failed');
    expect(result.stdout).toMatch(new RegExp(`failed: broken\\.jp2: ${join(bad, 'broken.jp2').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: gdal_translate failed: ERROR \\d+: .+`));
    expectFaithfulCog(join(bad, 'good.jp2'), join(root, 'bad-out', 'good.tif'));
    expect(existsSync(join(root, 'bad-out', 'broken.tif'))).toBe(false);
  }, 120_000);

  it('rejects a source without dalles and bad options with exit code 2', async () => {
    const empty = mkdtempSync(join(root, 'empty-'));
    const none = await runFleet(['prepare', '--src', empty, '--out', join(root, 'x')], {});
    expect([none.code, none.stderr.trim()]).toEqual([2, `fleet prepare: ${empty}: no .jp2 dalle found`]);
    const noOut = await runFleet(['prepare', '--src', src], {});
    expect([noOut.code, noOut.stderr.trim()]).toEqual([2, 'fleet prepare: --out <dir|s3://...> is required']);
  }, 60_000);

  it('fails with the reason when every preparer exits early', async () => {
    const result = await runFleet(['prepare', '--src', src, '--out', join(root, 'never')], { FLEET_GDAL_THREADS: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/fleet prepare: all preparers exited before the dalles were converted \(preparer 0: fleet preparer: invalid environment: FLEET_GDAL_THREADS: .+\); logs in \S+/);
  }, 60_000);

  it('says how to install GDAL when gdal_translate is missing', async () => {
    const prepare = await runFleet(['prepare', '--src', src, '--out', join(root, 'x')], { PATH: '/nonexistent' });
    expect([prepare.code, prepare.stderr.trim()]).toEqual([1, 'fleet prepare: gdal_translate not found on PATH: install GDAL, e.g. sudo apt-get install gdal-bin']);
    const preparer = await runFleet(['preparer'], { PATH: '/nonexistent', REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('nogdal') });
    expect([preparer.code, preparer.stderr.trim()]).toEqual([1, 'fleet preparer: gdal_translate not found on PATH: install GDAL, e.g. sudo apt-get install gdal-bin']);
  }, 60_000);
});

describe('fleet prepare with REDIS_URL and a separate fleet preparer', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fleet-prepare-q-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('only enqueues, twice without duplicates; the preparer converts them and stops on SIGTERM', async () => {
    const src = join(root, 'jp2');
    const out = join(root, 'cog');
    for (const [i, d] of DALLES.entries()) await writeJp2Dalle(join(src, d.key), { x: d.x, y: d.y, seed: i });
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('prepare') };
    const connection = createRedisConnection(env.REDIS_URL);
    const queue = new Queue('fleet-prepare', { connection, prefix: env.FLEET_QUEUE_PREFIX });
    try {
      for (let i = 0; i < 2; i++) {
        const enqueued = await runFleet(['prepare', '--src', src, '--out', out], env);
        expect(enqueued.code).toBe(0);
        expect(JSON.parse(enqueued.stdout)).toEqual({ dalles: 3, skipped: 0, enqueued: 3 });
      }
      expect(await queue.getJobCounts('waiting', 'active', 'completed')).toMatchObject({ waiting: 3, active: 0, completed: 0 });

      const preparer = startFleet(['preparer'], { ...env, FLEET_GDAL_THREADS: '1' });
      const deadline = Date.now() + 90_000;
      while (((await queue.getJobCounts('completed')).completed ?? 0) < 3 && Date.now() < deadline && preparer.child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await stopFleet(preparer)).toBe(0);
      expect(await queue.getJobCounts('waiting', 'completed', 'failed')).toMatchObject({ waiting: 0, completed: 3, failed: 0 });
      for (const d of DALLES) expectFaithfulCog(join(src, d.key), join(out, cogOf(d.key)));

      const again = await runFleet(['prepare', '--src', src, '--out', out], env);
      expect(JSON.parse(again.stdout)).toEqual({ dalles: 3, skipped: 3, enqueued: 0 });

      // a COG deleted since: its completed job is replaced, not ignored
      rmSync(join(out, cogOf(DALLES[0]!.key)));
      const redo = await runFleet(['prepare', '--src', src, '--out', out], env);
      expect(JSON.parse(redo.stdout)).toEqual({ dalles: 3, skipped: 2, enqueued: 1 });
      expect(await queue.getJobCounts('waiting')).toMatchObject({ waiting: 1 });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  }, 180_000);

  it('finishes the dalle in hand on SIGTERM, then exits 0', async () => {
    const src = join(root, 'big');
    const out = join(root, 'big-cog');
    // large enough that one gdal_translate thread takes a few seconds
    await writeJp2Dalle(join(src, 'big.jp2'), { x: X0, y: Y0, size: 1536 });
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('prepare-term') };
    const connection = createRedisConnection(env.REDIS_URL);
    const queue = new Queue('fleet-prepare', { connection, prefix: env.FLEET_QUEUE_PREFIX });
    try {
      expect((await runFleet(['prepare', '--src', src, '--out', out], env)).code).toBe(0);
      const preparer = startFleet(['preparer'], { ...env, FLEET_GDAL_THREADS: '1' });
      const deadline = Date.now() + 30_000;
      while (((await queue.getJobCounts('active')).active ?? 0) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(join(out, 'big.tif'))).toBe(false);
      expect(await stopFleet(preparer)).toBe(0);
      expect(await queue.getJobCounts('active', 'completed', 'failed')).toMatchObject({ active: 0, completed: 1, failed: 0 });
      expect(gdalInfo(join(out, 'big.tif'))).toMatchObject({ layout: 'COG', size: [1536, 1536] });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  }, 180_000);
});
