import { publishedBlock } from '../support/published';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeGeoTiff } from '../../packages/raster/src';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
import { createRedisConnection } from '../../packages/redis/src';
import { runFleet } from '../support/fleet-process';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { writeGdalRaster } from '../support/gdal-raster';
import { checkBlock, wholeMosaicArgmax } from '../support/map-check';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';

/**
 * Production-shaped inputs through the CLI: BD ORTHO RGB and IRC dalles in nested folders,
 * E computed from a DSM on the image grid and a 1 m DTM on its own grid, a missing dalle.
 * The model is context-free, so the map must equal the whole-mosaic argmax of the same
 * R, G, B, NIR and E planes (E = the band the DSM/DTM were built to give).
 */
describe('fleet run with --rgb/--irc/--dsm/--dtm', () => {
  let root: string;
  let mosaic: StackFixture;
  let expected: Uint8Array;
  const names = new Map<string, string>();

  // the DTM: a plane, 100 + 0.2 u + 0.2 v metres at the centre of its 1 m pixel (u, v), its grid
  // starting 3 m west and 2 m north of the image, in two dalles of 63 columns
  const DTM_ORIGIN = [ORIGIN[0] - 3, ORIGIN[1] + 2] as const;
  const dtmAt = (u: number, v: number) => 100 + 0.2 * u + 0.2 * v;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-inputs-'));
    // 2x2 dalles of 300 px (60 m), D-1-1 missing in every product
    mosaic = await writeStackMosaic(join(root, 'planes'), 2, 2, 300, 300, ['D-1-1']);
    expected = await wholeMosaicArgmax(mosaic, writePerPixelModel(join(root, 'model'), 5));
    const [R, G, B, NIR, E] = mosaic.planes as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    for (const d of mosaic.dalles) {
      const name = `92-2024-${Math.round(ORIGIN[0] + d.x * RES)}-${Math.round(ORIGIN[1] - d.y * RES)}-LA93-0M20-E080`;
      names.set(d.name, name);
      const crop = (p: Uint8Array) => {
        const out = new Uint8Array(d.width * d.height);
        for (let y = 0; y < d.height; y++) out.set(p.subarray((d.y + y) * mosaic.width + d.x, (d.y + y) * mosaic.width + d.x + d.width), y * d.width);
        return out;
      };
      const base = { width: d.width, height: d.height, tileSize: 128, epsg: 2154, geoTransform: [ORIGIN[0] + d.x * RES, RES, 0, ORIGIN[1] - d.y * RES, 0, -RES] as [number, number, number, number, number, number] };
      const rgbDir = join(root, 'rgb', 'ORTHOHR_1-0_RVB-0M20_JP2-E080_LAMB93_D092_2024-01-01', 'ORTHOHR', '1_DONNEES_LIVRAISON_2024', 'OHR_RVB_0M20_D092');
      const ircDir = join(root, 'irc', 'ORTHOHR_1-0_IRC-0M20_JP2-E080_LAMB93_D092_2024-01-01', 'OHR_IRC_0M20_D092');
      mkdirSync(rgbDir, { recursive: true });
      mkdirSync(ircDir, { recursive: true });
      await writeGeoTiff(join(rgbDir, `${name}.tif`), { ...base, bands: 3 }, [crop(R), crop(G), crop(B)]);
      await writeGeoTiff(join(ircDir, `${name}.TIF`), { ...base, bands: 3 }, [crop(NIR), crop(R), crop(G)]);
      // the DSM: ground (the DTM at the pixel centre) plus E steps of 20 cm
      const dsm = new Float32Array(d.width * d.height);
      const e = crop(E);
      for (let y = 0; y < d.height; y++) {
        for (let x = 0; x < d.width; x++) {
          // the image pixel's centre in DTM pixels (the DTM starts 3 m west and 2 m north)
          const u = (d.x + x + 0.5) * RES + 3 - 0.5;
          const v = (d.y + y + 0.5) * RES + 2 - 0.5;
          dsm[y * d.width + x] = dtmAt(u, v) + e[y * d.width + x]! / 5;
        }
      }
      writeGdalRaster(join(root, 'dsm', `MNS_${name}.tif`), { ...base, type: 'Float32', noData: -9999 }, [dsm]);
    }
    // 1 m DTM over 120 m of image plus margins: 126 x 124 px
    for (const [col0, cols] of [[0, 63], [63, 63]] as const) {
      const values = new Float32Array(cols * 124);
      for (let v = 0; v < 124; v++) for (let c = 0; c < cols; c++) values[v * cols + c] = dtmAt(col0 + c, v);
      writeGdalRaster(join(root, 'dtm', `RGEALTI_FXX_${col0}_MNT_LAMB93_IGN69.tif`), {
        width: cols, height: 124, type: 'Float32', epsg: 2154, noData: -99999,
        geoTransform: [DTM_ORIGIN[0] + col0, 1, 0, DTM_ORIGIN[1], 0, -1],
      }, [values]);
    }
    writeFileSync(join(root, 'rgb', 'LISEZ-MOI.txt'), 'not a raster');
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('computes E from the DSM and DTM and maps like the same E band given ready', async () => {
    const out = join(root, 'out');
    const args = ['run', '--rgb', join(root, 'rgb'), '--irc', join(root, 'irc'), '--dsm', join(root, 'dsm'), '--dtm', join(root, 'dtm'), '--model', join(root, 'model'), '--out', out];
    const result = await runFleet(args, { FLEET_THREADS: '1' });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/4 windows inferred, 0 without data, 0 failed, 3 block\(s\)/);
    for (const d of mosaic.dalles) {
      const block = await checkBlock(publishedBlock(out, `${names.get(d.name)}`), d, mosaic.width, expected);
      expect([d.name, block.width, block.height, block.epsg, block.mismatches]).toEqual([d.name, 300, 300, 2154, 0]);
    }
  }, 180_000);

  it('refuses --elevation with --dsm/--dtm, and a DTM in another CRS, before enqueueing (exit 2)', async () => {
    const common = ['--rgb', join(root, 'rgb'), '--irc', join(root, 'irc'), '--model', join(root, 'model'), '--out', join(root, 'never')];
    const both = await runFleet(['run', ...common, '--elevation', join(root, 'dsm'), '--dsm', join(root, 'dsm'), '--dtm', join(root, 'dtm')], {});
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--elevation and --dsm/--dtm exclude each other')]);

    writeGdalRaster(join(root, 'dtm-wgs84', 'a.tif'), { width: 10, height: 10, type: 'Float32', epsg: 4326, geoTransform: [2.3, 0.001, 0, 48.8, 0, -0.001] }, [new Float32Array(100)]);
    // a live Redis (the preflight checks it answers before the headers are scanned): nothing may reach it
    const prefix = uniquePrefix('crs-refused');
    const crs = await runFleet(['enqueue', ...common, '--dsm', join(root, 'dsm'), '--dtm', join(root, 'dtm-wgs84')], { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix });
    expect([crs.code, crs.stderr]).toEqual([2, expect.stringContaining(`${join(root, 'dtm-wgs84', 'a.tif')}: CRS EPSG:4326 is not Lambert-93`)]);
    const redis = createRedisConnection(testRedisUrl());
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

interface LoggedRequest {
  method: string;
  url: string;
  range?: string;
}

/**
 * The same kind of run with every input on S3 as cloud-optimised GeoTIFFs (GDAL's COG driver:
 * overviews, IFDs first), under nested prefixes: the coordinator finds the dalles by listing,
 * and every read of an input is a Range request.
 */
describe('fleet run on S3 COG inputs with --dsm/--dtm', () => {
  let root: string;
  let server: ChildProcess;
  let endpoint: string;
  let mosaic: StackFixture;
  let expected: Uint8Array;
  const requestLog = () => join(root, 's3-requests.jsonl');
  const s3Env = () => ({ S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-s3-cog-'));
    writeFileSync(requestLog(), '');
    server = spawn(process.execPath, [join(__dirname, '..', 'support', 's3-server-main.js'), '--log', requestLog(), '--bucket', 'fleet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    endpoint = (JSON.parse(line) as { endpoint: string }).endpoint;
    for (const [k, v] of Object.entries(s3Env())) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }

    mosaic = await writeStackMosaic(join(root, 'planes'), 2, 1, 300, 260);
    expected = await wholeMosaicArgmax(mosaic, writePerPixelModel(join(root, 'model'), 9));
    const [R, G, B, NIR, E] = mosaic.planes as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const store = new S3Store('s3://fleet/in', s3OptionsFromEnv(s3Env()));
    try {
      for (const d of mosaic.dalles) {
        const crop = (p: Uint8Array) => {
          const out = new Uint8Array(d.width * d.height);
          for (let y = 0; y < d.height; y++) out.set(p.subarray(y * mosaic.width + d.x, y * mosaic.width + d.x + d.width), y * d.width);
          return out;
        };
        const gt = [ORIGIN[0] + d.x * RES, RES, 0, ORIGIN[1], 0, -RES];
        const opts = { width: d.width, height: d.height, geoTransform: gt, epsg: 2154, type: 'Byte', cog: true, tile: 128 };
        const ground = 87.5; // a flat DTM: the bilinear maths is covered by the unit tests
        const files: Array<[string, GdalOpts, ArrayLike<number>[]]> = [
          [`rgb/D092/${d.name}.tif`, opts, [crop(R), crop(G), crop(B)]],
          [`irc/D092/${d.name}.tif`, opts, [crop(NIR), crop(R), crop(G)]],
          [`dsm/${d.name}.tif`, { ...opts, type: 'Float32' }, [Float32Array.from(crop(E), (e) => ground + e / 5)]],
        ];
        if (d.x === 0) files.push([`dtm/dtm.tif`, { width: 70, height: 60, geoTransform: [ORIGIN[0] - 5, 2, 0, ORIGIN[1] + 4, 0, -2], epsg: 2154, type: 'Float32', cog: true, tile: 128 }, [new Float32Array(4200).fill(ground)]]);
        for (const [key, o, planes] of files) {
          const local = join(root, 'cog', key);
          writeGdalRaster(local, o, planes);
          await store.putFile(key, local);
        }
      }
    } finally {
      await store.close();
    }
    // the COG driver puts the IFDs first: check one, independently
    const info = execFileSync('gdalinfo', [join(root, 'cog', 'rgb', 'D092', 'D-0-0.tif')], { encoding: 'utf8' });
    expect(info).toMatch(/LAYOUT=COG/);
  }, 120_000);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the dalles under the prefixes, reads them by Range only, and maps exactly', async () => {
    const before = readFileSync(requestLog(), 'utf8').split('\n').filter(Boolean).length;
    const result = await runFleet(
      ['run', '--rgb', 's3://fleet/in/rgb', '--irc', 's3://fleet/in/irc', '--dsm', 's3://fleet/in/dsm', '--dtm', 's3://fleet/in/dtm', '--model', join(root, 'model'), '--out', join(root, 'out')],
      { ...s3Env(), FLEET_THREADS: '1' },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/2 windows inferred, 0 without data, 0 failed, 2 block\(s\)/);
    for (const d of mosaic.dalles) {
      const block = await checkBlock(publishedBlock(join(root, 'out'), d.name), d, mosaic.width, expected);
      expect([d.name, block.mismatches]).toEqual([d.name, 0]);
    }
    const run = readFileSync(requestLog(), 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l) as LoggedRequest);
    const inputReads = run.filter((r) => r.method === 'GET' && /^\/fleet\/in\/.+\.tif(\?|$)/.test(r.url));
    expect(inputReads.length).toBeGreaterThan(0);
    expect(inputReads.filter((r) => !/^bytes=\d+-\d+$/.test(r.range ?? ''))).toEqual([]);
    for (const key of ['rgb/D092/D-0-0.tif', 'irc/D092/D-1-0.tif', 'dsm/D-0-0.tif', 'dtm/dtm.tif']) {
      expect(inputReads.some((r) => r.url.startsWith(`/fleet/in/${key}`))).toBe(true);
    }
  }, 180_000);
});

type GdalOpts = Parameters<typeof writeGdalRaster>[1];
