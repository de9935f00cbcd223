import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
import { runFleet } from '../support/fleet-process';
import { checkBlock, wholeMosaicArgmax } from '../support/map-check';
import { checkRunProducts } from '../support/products-check';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';

interface LoggedRequest {
  method: string;
  url: string;
  range?: string;
}

/**
 * `fleet run` with inputs and output on S3: a real s3rver as its own process (the request
 * log of test/support/s3-server-main.js --log), the CLI as a process with only S3_* / AWS_*
 * in its environment and no REDIS_URL (it starts its own redis-server and two worker
 * processes). The blocks fetched back from the bucket must equal the whole-mosaic argmax,
 * and the workers must read input dalles by Range requests only.
 */
describe('fleet run with inputs and output on S3', () => {
  let root: string;
  let server: ChildProcess;
  let endpoint: string;
  let mosaic: StackFixture;
  let expected: Uint8Array;
  let logDir: string | undefined;
  const savedEnv: Record<string, string | undefined> = {};
  const requestLog = () => join(root, 's3-requests.jsonl');
  const s3Env = () => ({
    S3_ENDPOINT: endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-s3-'));
    writeFileSync(requestLog(), '');
    server = spawn(process.execPath, [join(__dirname, '..', 'support', 's3-server-main.js'), '--log', requestLog(), '--bucket', 'fleet'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    endpoint = (JSON.parse(line) as { endpoint: string }).endpoint;

    mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 300, 300);
    const model = writePerPixelModel(join(root, 'model'), 11);
    expected = await wholeMosaicArgmax(mosaic, model);

    // the SDK takes credentials from the environment only (never from store options)
    for (const [name, value] of Object.entries(s3Env())) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    const inputs = new S3Store('s3://fleet/inputs', s3OptionsFromEnv(s3Env()));
    try {
      for (const d of mosaic.dalles) await inputs.putFile(`${d.name}.tif`, join(mosaic.dir, `${d.name}.tif`));
    } finally {
      await inputs.close();
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (logDir) rmSync(logDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('maps an S3 mosaic into an S3 output, reading the dalles by Range requests only', async () => {
    const uploads = readFileSync(requestLog(), 'utf8').split('\n').filter(Boolean).length;
    const result = await runFleet(
      ['run', '--stack', 's3://fleet/inputs', '--model', join(root, 'model'), '--out', 's3://fleet/out', '--workers', '2'],
      { ...s3Env(), FLEET_THREADS: '1' },
    );
    logDir = /^logs:\s+(.+)$/m.exec(result.stdout)?.[1];
    expect(result.stderr).toMatch(/REDIS_URL unset: started a private redis-server/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('map:    s3://fleet/out/mosaic.vrt');
    expect(result.stdout).toMatch(/^report: s3:\/\/fleet\/out\/runs\/run-[0-9a-f]+\/run\.json$/m);
    // 600 x 600 px: windows at 0 and 88 in each direction
    expect(result.stdout).toMatch(/4 windows inferred, 0 without data, 0 failed, 4 block\(s\)/);

    const out = new S3Store('s3://fleet/out', s3OptionsFromEnv(s3Env()));
    try {
      const current = JSON.parse((await out.get('current.json')).toString('utf8'));
      const report = JSON.parse((await out.get(current.report)).toString('utf8'));
      const at = (key: string) => `runs/${report.runId as string}/${key}`;
      expect(report).toMatchObject({ complete: true, windows: { total: 4, done: 4, skipped: 0, failed: 0, failures: [] } });
      expect(report.blocks.map((b: { id: string; incomplete: boolean }) => [b.id, b.incomplete])).toEqual(
        mosaic.dalles.map((d) => [d.name, false]).sort(),
      );

      // the mask tiles were written (4 PUTs, below) and deleted once their blocks were merged;
      // the blocks' records stay (storage's proof that they are merged, should Redis lose the run),
      // and the run's spec (what the next night's refresh compares with)
      const keys = (await out.list('')).filter((k) => !/^_work\/[^/]+\/(blocks\/[^/]+|spec)\.json$/.test(k));
      expect(keys.filter((k) => k.startsWith('_work/'))).toEqual([]);
      expect((await out.list('_work/')).map((k) => k.replace(/^_work\/[^/]+\//, ''))).toEqual([...mosaic.dalles.map((d) => `blocks/${d.name}.json`).sort(), 'spec.json']);
      expect(report.maskTiles).toEqual({ removed: true, remaining: 0 });
      expect(keys.sort()).toEqual(
        [
          'current.json', 'mosaic.vrt', 'stac/collection.json',
          ...['run.json', 'manifest.json', 'changes.json', 'changes.png', 'changes-mask.png', 'areas.csv', 'areas.json', 'quicklook.png'].map(at),
          ...mosaic.dalles.flatMap((d) => [at(`blocks/${d.name}.tif`), at(`stac/items/${d.name}.json`)]),
        ].sort(),
      );
      await checkRunProducts((key) => out.get(key), report, { width: 600, height: 600 });
      const vrt = (await out.get('mosaic.vrt')).toString('utf8');
      expect(vrt).toContain('rasterXSize="600"');
      for (const d of mosaic.dalles) expect(vrt).toContain(at(`blocks/${d.name}.tif`));

      // every block, fetched back from the bucket: the dalle's grid and the whole-mosaic argmax
      mkdirSync(join(root, 'fetched'));
      for (const d of mosaic.dalles) {
        const local = join(root, 'fetched', `${d.name}.tif`);
        writeFileSync(local, await out.get(at(`blocks/${d.name}.tif`)));
        const block = await checkBlock(local, d, mosaic.width, expected);
        expect([d.name, block.width, block.height, block.epsg, block.noData, block.mismatches]).toEqual([d.name, d.width, d.height, 2154, 0, 0]);
        expect(block.geoTransform).toEqual([ORIGIN[0] + d.x * RES, RES, 0, ORIGIN[1] - d.y * RES, 0, -RES]);
      }
    } finally {
      await out.close();
    }

    // what the run itself asked of S3 (the uploads above and the checks after are left out)
    const requests = readFileSync(requestLog(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LoggedRequest);
    const run = requests.slice(uploads);
    const dalleReads = run.filter((r) => r.method === 'GET' && /^\/fleet\/inputs\/D-\d-\d\.tif(\?|$)/.test(r.url));
    expect(dalleReads.filter((r) => r.range === undefined)).toEqual([]);
    for (const d of mosaic.dalles) {
      expect(dalleReads.some((r) => r.url.startsWith(`/fleet/inputs/${d.name}.tif`) && /^bytes=\d+-\d+$/.test(r.range!))).toBe(true);
    }
    // the run wrote its products with PUTs under out/
    expect(run.some((r) => r.method === 'PUT' && r.url.startsWith('/fleet/out/runs/'))).toBe(true);
    expect(run.filter((r) => r.method === 'PUT' && r.url.startsWith('/fleet/out/_work/') && r.url.includes('/tiles/'))).toHaveLength(4);
    expect(run.filter((r) => r.method === 'DELETE' && r.url.startsWith('/fleet/out/_work/')).length).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
