import { publishedBlock, publishedReport } from '../support/published';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGeoTiff, writeGeoTiff } from '../../packages/raster/src';
import { runFleet } from '../support/fleet-process';
import { wholeMosaicArgmax } from '../support/map-check';
import { writePerPixelModel } from '../support/model-fixture';
import { ORIGIN, RES, writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';

/** Byte ranges of a classic little-endian tiled TIFF's tiles (what the fixture writer produces). */
function tileRanges(file: Buffer): Array<[offset: number, length: number]> {
  expect(file.readUInt16LE(0)).toBe(0x4949);
  expect(file.readUInt16LE(2)).toBe(42);
  const ifd = file.readUInt32LE(4);
  const entries = file.readUInt16LE(ifd);
  const values = (tag: number): number[] => {
    for (let i = 0; i < entries; i++) {
      const at = ifd + 2 + 12 * i;
      if (file.readUInt16LE(at) !== tag) continue;
      const type = file.readUInt16LE(at + 2);
      const count = file.readUInt32LE(at + 4);
      const size = type === 3 ? 2 : 4;
      const base = count * size <= 4 ? at + 8 : file.readUInt32LE(at + 8);
      return Array.from({ length: count }, (_, k) => (size === 2 ? file.readUInt16LE(base + 2 * k) : file.readUInt32LE(base + 4 * k)));
    }
    throw new Error(`tag ${tag} not found`);
  };
  const offsets = values(324);
  const counts = values(325);
  return offsets.map((o, i) => [o, counts[i]!]);
}

/**
 * A dalle whose header is intact but whose tile data stops at 60%: each tile keeps its first
 * 60% of bytes and the rest is zeros (a download cut short into a preallocated file). The
 * file size and every offset in its directory stay valid, so the coordinator's header scan
 * accepts it and the problem only shows when a worker decodes the tiles.
 */
function cutTileData(path: string): void {
  const file = readFileSync(path);
  for (const [offset, length] of tileRanges(file)) file.fill(0, offset + Math.floor(length * 0.6), offset + length);
  writeFileSync(path, file);
}

const oneLine = /^[^\n]+\n$/;

describe('fleet run with a corrupt input dalle', () => {
  let root: string;
  let mosaic: StackFixture;
  let expected: Uint8Array;
  let logDir: string | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-fail-'));
    // 1200 x 300 px, --overlap 128 (the counts below are for it): windows at x = 0, 384, 688 (512 wide); D-3-0 is only read by the third
    mosaic = await writeStackMosaic(join(root, 'stack'), 4, 1, 300, 300);
    expected = await wholeMosaicArgmax(mosaic, writePerPixelModel(join(root, 'model'), 5));
    cutTileData(join(mosaic.dir, 'D-3-0.tif'));
  });

  afterAll(() => {
    if (logDir) rmSync(logDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('fails the windows that read it at once, maps the rest, and says so in one line and in run.json', async () => {
    const out = join(root, 'out');
    const result = await runFleet(['run', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out, '--overlap', '128', '--workers', '1'], {
      REDIS_URL: testRedisUrl(),
      FLEET_QUEUE_PREFIX: uniquePrefix('corrupt'),
      FLEET_THREADS: '1',
    });
    logDir = /^logs:\s+(.+)$/m.exec(result.stdout)?.[1];

    expect(result.code).toBe(1);
    // off a terminal the progress bar prints a "windows ..." line now and then; besides those, one line
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !/^windows [-=]+ \d+\/\d+ /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fleet run: 1 window\(s\) failed, e\.g\. \S*\/D-3-0\.tif: cannot read window .*: .+; see runs\/run-[0-9a-f]+\/run\.json$/);
    expect(result.stdout).toMatch(/2 windows inferred, 0 without data, 1 failed, 4 block\(s\)/);

    const report = publishedReport(out);
    expect(report).toMatchObject({ complete: false, windows: { total: 3, done: 2, skipped: 0, failed: 1 } });
    expect(report.windows.failures).toHaveLength(1);
    expect(report.windows.failures[0].error).toContain(join(mosaic.dir, 'D-3-0.tif'));
    expect(report.windows.failures[0].error).toMatch(/cannot read window/);
    expect(report.blocks.map((b: { id: string; incomplete: boolean; failedWindows: number }) => [b.id, b.incomplete, b.failedWindows])).toEqual([
      ['D-0-0', false, 0],
      ['D-1-0', false, 0],
      ['D-2-0', true, 1],
      ['D-3-0', true, 1],
    ]);

    // pixels of the windows that ran: the whole-mosaic argmax; pixels no window covered: nodata
    const covered = (x: number) => x < 896; // windows 0 and 1 cover x < 384 + 512
    let wrong = 0;
    let nodata = 0;
    for (const d of mosaic.dalles) {
      const file = await openGeoTiff(publishedBlock(out, `${d.name}`));
      expect([file.width, file.height, file.noData]).toEqual([d.width, d.height, 0]);
      const [classes] = await file.readWindow({ x: 0, y: 0, width: d.width, height: d.height });
      await file.close();
      for (let y = 0; y < d.height; y++) {
        for (let x = 0; x < d.width; x++) {
          const got = classes![y * d.width + x]!;
          const mx = d.x + x;
          if (covered(mx)) {
            if (got !== expected[(d.y + y) * mosaic.width + mx]) wrong++;
          } else if (got === 0) nodata++;
          else wrong++;
        }
      }
    }
    expect(wrong).toBe(0);
    expect(nodata).toBe((1200 - 896) * 300);
    expect(report.classes.reduce((a: number, c: { pixels: number }) => a + c.pixels, 0)).toBe(896 * 300);

    // a corrupt file is a permanent error: one attempt, no BullMQ retries (3 attempts, 2 s backoff)
    expect(logDir).toBeDefined();
    const failures = readdirSync(logDir!)
      .filter((f) => f.startsWith('worker-'))
      .flatMap((f) => readFileSync(join(logDir!, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as { msg: string; attempt?: number; permanent?: boolean; err?: string })
      .filter((l) => l.msg === 'window failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ attempt: 1, permanent: true });
    expect(failures[0]!.err).toContain('D-3-0.tif');
  }, 90_000);
});

describe('fleet usage and input errors', () => {
  let root: string;
  let stack: string;
  let model: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-usage-'));
    stack = (await writeStackMosaic(join(root, 'stack'), 2, 1, 200, 200)).dir;
    model = join(root, 'model');
    writePerPixelModel(model, 1);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Runs fleet with no REDIS_URL: each of these must be refused before any Redis is needed. */
  async function refused(args: string[]): Promise<string> {
    const result = await runFleet(args, {});
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(oneLine);
    expect(result.code).toBe(2);
    return result.stderr;
  }

  it('missing --model', async () => {
    expect(await refused(['run', '--stack', stack, '--out', join(root, 'o')])).toBe('fleet run: --model <dir> is required\n');
  });

  it('an unknown option', async () => {
    expect(await refused(['run', '--stack', stack, '--model', model, '--out', join(root, 'o'), '--wrokers', '2'])).toMatch(
      /^fleet run: Unknown option '--wrokers'/,
    );
  });

  it('--rgb without --irc', async () => {
    expect(await refused(['run', '--rgb', stack, '--elevation', stack, '--model', model, '--out', join(root, 'o')])).toBe(
      'fleet run: --rgb needs --irc (for NIR) and --elevation, or --dsm with --dtm (for E), as well\n',
    );
  });

  it('a model folder without model.json, naming the file', async () => {
    const bare = join(root, 'bare-model');
    mkdirSync(bare);
    writeFileSync(join(bare, 'model.onnx'), readFileSync(join(model, 'model.onnx')));
    const stderr = await refused(['run', '--stack', stack, '--model', bare, '--out', join(root, 'o')]);
    expect(stderr).toContain(join(bare, 'model.json'));
    expect(stderr).toMatch(/^fleet run: .*model\.json: cannot read: ENOENT/);
  });

  it('a source folder without any GeoTIFF', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'README.txt'), 'no imagery here');
    expect(await refused(['run', '--stack', empty, '--model', model, '--out', join(root, 'o')])).toBe(
      `fleet run: no GeoTIFF found in ${empty} (--stack): none of its 1 file(s) is a .tif/.tiff\n`,
    );
  });

  it('a dalle off the mosaic grid, naming the file', async () => {
    const dir = join(root, 'misaligned');
    mkdirSync(dir);
    for (const name of ['D-0-0.tif', 'D-1-0.tif']) writeFileSync(join(dir, name), readFileSync(join(stack, name)));
    // half a pixel east of where the next dalle would sit
    const planes = Array.from({ length: 5 }, () => new Uint8Array(200 * 200).fill(90));
    await writeGeoTiff(join(dir, 'D-2-0.tif'), {
      width: 200, height: 200, bands: 5, tileSize: 128, epsg: 2154,
      geoTransform: [ORIGIN[0] + 400 * RES + RES / 2, RES, 0, ORIGIN[1], 0, -RES],
    }, planes);
    expect(await refused(['run', '--stack', dir, '--model', model, '--out', join(root, 'o')])).toBe(
      `fleet run: ${join(dir, 'D-2-0.tif')}: not aligned to the mosaic grid (offset 400.500, 0.000 px is not whole)\n`,
    );
  });

  it('a dalle truncated to 60% of its bytes, naming the file (found by the header scan, before any window)', async () => {
    const dir = join(root, 'truncated');
    mkdirSync(dir);
    for (const name of ['D-0-0.tif', 'D-1-0.tif']) writeFileSync(join(dir, name), readFileSync(join(stack, name)));
    const size = readFileSync(join(dir, 'D-1-0.tif')).length;
    truncateSync(join(dir, 'D-1-0.tif'), Math.floor(size * 0.6));
    const stderr = await refused(['run', '--stack', dir, '--model', model, '--out', join(root, 'o')]);
    expect(stderr.startsWith(`fleet run: ${join(dir, 'D-1-0.tif')}: `)).toBe(true);
    expect(stderr).toMatch(/TIFF|truncated/);
  });

  it('fleet enqueue shares the checks of fleet run', async () => {
    const empty = join(root, 'empty-for-enqueue');
    mkdirSync(empty);
    const result = await runFleet(['enqueue', '--stack', empty, '--model', model, '--out', join(root, 'o')], {
      REDIS_URL: testRedisUrl(),
      FLEET_QUEUE_PREFIX: uniquePrefix('usage'),
    });
    expect([result.code, result.stderr]).toEqual([2, `fleet enqueue: no GeoTIFF found in ${empty}\n`]);
  });

  it('fleet worker without REDIS_URL: exit 2 and a one-line instruction', async () => {
    const result = await runFleet(['worker'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(oneLine);
    expect(result.stderr).toBe('fleet worker: needs REDIS_URL, the fleet\'s shared Redis: set it, e.g. REDIS_URL=redis://host:6379 fleet worker\n');
  });
});
