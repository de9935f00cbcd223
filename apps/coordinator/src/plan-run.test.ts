import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { windowAt } from '@fleet/grid';
import { FleetQueues, RunState, runSpecSchema } from '@fleet/jobs';
import { writeGeoTiff } from '@fleet/raster';
import { createRedisConnection } from '@fleet/redis';
import { writeGdalRaster } from '../../../test/support/gdal-raster';
import { buildPerPixelModel } from '../../../packages/demo-data/src';
import { writePerPixelModel } from '../../../test/support/model-fixture';
import { writeStackMosaic } from '../../../test/support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { enqueueRun } from './enqueue-run';
import { planRun } from './plan-run';

describe('planRun and enqueueRun', () => {
  let root: string;
  const redis = createRedisConnection(testRedisUrl());

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'plan-'));
    // 3x2 dalles of 400x300 with one missing: a 1200x600 footprint
    await writeStackMosaic(join(root, 'stack'), 3, 2, 400, 300, ['D-2-1']);
    writePerPixelModel(join(root, 'model'), 1);
  });
  afterAll(async () => {
    await redis.quit();
    rmSync(root, { recursive: true, force: true });
  });

  // the window counts below are for 128 px of overlap (the default before issue 13), given explicitly
  const request = () => ({ sources: { stack: join(root, 'stack') }, model: join(root, 'model'), output: join(root, 'out'), overlap: 128 });

  it('defaults to 256 px of overlap and Gaussian window weights', async () => {
    const { spec } = await planRun({ ...request(), overlap: undefined });
    expect(spec.overlap).toBe(256);
    expect(spec.weighting).toBe('gaussian');
    // columns 0, 256, 512, 688; rows 0, 88
    expect(spec.windowCount).toBe(8);
    expect(runSpecSchema.parse(spec)).toEqual(spec);
    // a spec without a weighting (planned before) is valid; an unknown one is refused by name
    expect(runSpecSchema.parse({ ...spec, weighting: undefined }).weighting).toBeUndefined();
    expect(() => runSpecSchema.parse({ ...spec, weighting: 'cosine' })).toThrow(/weighting/);
  });

  it('plans one block per dalle, windows over the footprint and a deterministic run id', async () => {
    const { spec, windowsPerBlock } = await planRun(request());
    expect(spec.mosaic).toEqual({ width: 1200, height: 600, geoTransform: [645000, 0.2, 0, 6865000, 0, -0.2], epsg: 2154 });
    expect(spec.blocks.map((b) => [b.id, b.x, b.y, b.width, b.height])).toEqual([
      ['D-0-0', 0, 0, 400, 300], ['D-0-1', 0, 300, 400, 300], ['D-1-0', 400, 0, 400, 300], ['D-1-1', 400, 300, 400, 300], ['D-2-0', 800, 0, 400, 300],
    ]);
    // columns 0, 384, 688; rows 0, 88
    expect(spec.windowCount).toBe(6);
    expect(Object.fromEntries(windowsPerBlock)).toEqual({ 'D-0-0': 4, 'D-0-1': 4, 'D-1-0': 6, 'D-1-1': 6, 'D-2-0': 4 });
    expect(spec.model.classes).toHaveLength(15);
    expect((await planRun(request())).spec.runId).toBe(spec.runId);
    expect((await planRun({ ...request(), overlap: 64 })).spec.runId).not.toBe(spec.runId);
    expect(spec.runId).toMatch(/^run-[0-9a-f]{12}$/);
  });

  it('gives a new run id when an input file changes (a nightly refresh of the same folders)', async () => {
    const before = (await planRun(request())).spec.runId;
    const file = join(root, 'stack', 'D-0-0.tif');
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    expect((await planRun(request())).spec.runId).not.toBe(before);
  });

  it('gives a new run id when model.onnx is replaced under the same name and version, and records what it hashed', async () => {
    const { spec } = await planRun(request());
    expect(spec.inputs!.modelHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(spec.inputs!.dalles.stack!)).toEqual(['D-0-0.tif', 'D-0-1.tif', 'D-1-0.tif', 'D-1-1.tif', 'D-2-0.tif']);
    const onnx = join(root, 'model', 'model.onnx');
    const original = readFileSync(onnx);
    try {
      // other weights (a per-pixel model of another seed) under the same model.json, byte for byte
      const json = readFileSync(join(root, 'model', 'model.json'));
      writeFileSync(onnx, buildPerPixelModel(2).onnx);
      expect(readFileSync(join(root, 'model', 'model.json'))).toEqual(json);
      const replaced = (await planRun(request())).spec;
      expect([replaced.model.name, replaced.model.version]).toEqual([spec.model.name, spec.model.version]);
      expect(replaced.inputs!.modelHash).not.toBe(spec.inputs!.modelHash);
      expect(replaced.runId).not.toBe(spec.runId);
    } finally {
      writeFileSync(onnx, original);
    }
    expect((await planRun(request())).spec.runId).toBe(spec.runId);
  });

  it('with hashInputs, a dalle rewritten with the same bytes (a new mtime) keeps the run id', async () => {
    const before = (await planRun({ ...request(), hashInputs: true })).spec;
    expect(before.inputs!.dalles.stack!['D-0-1.tif']).toMatch(/^sha256:[0-9a-f]{64}$/);
    const file = join(root, 'stack', 'D-0-1.tif');
    writeFileSync(file, readFileSync(file));
    const later = new Date(Date.now() + 120_000);
    utimesSync(file, later, later);
    expect((await planRun({ ...request(), hashInputs: true })).spec.runId).toBe(before.runId);
    expect((await planRun(request())).spec.runId).not.toBe((await planRun({ ...request(), hashInputs: true })).spec.runId);
  });

  it('plans regular blocks on request', async () => {
    const { spec } = await planRun({ ...request(), blockSize: 500 });
    expect(spec.blocks.map((b) => b.id)).toEqual(['b0-0', 'b0-1', 'b0-2', 'b1-0', 'b1-1', 'b1-2']);
  });

  it('rejects incomplete or contradictory sources with a clear message', async () => {
    await expect(planRun({ ...request(), sources: { rgb: join(root, 'stack') } })).rejects.toThrow('--rgb needs --irc (for NIR) and --elevation, or --dsm with --dtm (for E), as well');
    await expect(planRun({ ...request(), sources: { rgb: join(root, 'stack'), irc: join(root, 'stack'), dsm: join(root, 'stack') } })).rejects.toThrow('--dsm and --dtm go together: E = (DSM - DTM) * 5 needs both');
    await expect(planRun({ ...request(), sources: { rgb: join(root, 'stack'), irc: join(root, 'stack'), elevation: join(root, 'stack'), dsm: join(root, 'stack'), dtm: join(root, 'stack') } })).rejects.toThrow(
      '--elevation and --dsm/--dtm exclude each other: give a ready E band or the surfaces to compute it from',
    );
    await expect(planRun({ ...request(), sources: { stack: join(root, 'stack'), dsm: join(root, 'stack'), dtm: join(root, 'stack') } })).rejects.toThrow('--stack already holds E (band 5): drop --elevation/--dsm/--dtm');
    await expect(planRun({ ...request(), sources: { stack: join(root, 'stack'), rgb: join(root, 'stack') } })).rejects.toThrow(/either --stack or --rgb/);
    await expect(planRun({ ...request(), sources: { elevation: join(root, 'stack') } })).rejects.toThrow('a run needs --stack or --rgb');
    await expect(planRun({ ...request(), model: join(root, 'nowhere') })).rejects.toThrow(/nowhere\/model\.json/);
    await expect(planRun({ ...request(), model: 's3://models/flair' })).rejects.toThrow('--model must be a local folder, mounted at the same path on every worker (got s3://models/flair)');
  });

  it('carries --dsm/--dtm into the run spec, each surface on its own grid', async () => {
    const dir = join(root, 'surfaces');
    const gt = [645000, 0.2, 0, 6865000, 0, -0.2];
    for (const [role, bands] of [['rgb', 3], ['irc', 3]] as const) {
      mkdirSync(join(dir, role, 'D092'), { recursive: true });
      await writeGeoTiff(join(dir, role, 'D092', '92-2024-0645-6865-LA93-0M20-E080.tif'), { width: 100, height: 50, bands, epsg: 2154, tileSize: 64, geoTransform: gt as never }, Array.from({ length: bands }, () => new Uint8Array(5000).fill(9)));
    }
    writeGdalRaster(join(dir, 'dsm', 'mns.tif'), { width: 100, height: 50, geoTransform: gt, epsg: 2154, type: 'Float32' }, [new Float32Array(5000).fill(120)]);
    writeGdalRaster(join(dir, 'dtm', 'RGEALTI_0645_6866.tif'), { width: 30, height: 20, geoTransform: [644995, 1, 0, 6865005, 0, -1], epsg: 2154, type: 'Float32', noData: -99999 }, [new Float32Array(600).fill(100)]);
    const sources = { rgb: join(dir, 'rgb'), irc: join(dir, 'irc'), dsm: join(dir, 'dsm'), dtm: join(dir, 'dtm') };
    const { spec } = await planRun({ ...request(), sources });
    expect(runSpecSchema.parse(spec)).toEqual(spec);
    expect(spec.blocks.map((b) => b.id)).toEqual(['92-2024-0645-6865-LA93-0M20-E080']);
    expect(spec.sources.map((s) => [s.role, s.dalles.map((d) => [d.uri, d.x, d.y, d.width, d.height, d.noData, d.grid])])).toEqual([
      ['rgb', [['D092/92-2024-0645-6865-LA93-0M20-E080.tif', 0, 0, 100, 50, undefined, undefined]]],
      ['irc', [['D092/92-2024-0645-6865-LA93-0M20-E080.tif', 0, 0, 100, 50, undefined, undefined]]],
      ['dsm', [['mns.tif', 0, 0, 100, 50, undefined, { x: 0, y: 0, stepX: 1, stepY: 1 }]]],
      ['dtm', [['RGEALTI_0645_6866.tif', 0, 0, 30, 20, -99999, { x: -25, y: -25, stepX: 5, stepY: 5 }]]],
    ]);

    // a DTM in another CRS is rejected before anything is enqueued, naming the file
    writeGdalRaster(join(dir, 'dtm-wgs', 'a.tif'), { width: 30, height: 20, geoTransform: [2.3, 0.0001, 0, 48.8, 0, -0.0001], epsg: 4326, type: 'Float32' }, [new Float32Array(600)]);
    await expect(planRun({ ...request(), sources: { ...sources, dtm: join(dir, 'dtm-wgs') } })).rejects.toThrow(`${join(dir, 'dtm-wgs', 'a.tif')}: CRS EPSG:4326 is not Lambert-93`);
  }, 60_000);

  it('enqueues once, and on resume skips windows already done', async () => {
    const prefix = uniquePrefix('enqueue');
    const queues = new FleetQueues(redis, prefix);
    try {
      const { spec, windowsPerBlock } = await planRun(request());
      // a small run keeps one window per job
      expect(spec.groupSide).toBe(1);
      expect(await enqueueRun(redis, queues, spec, windowsPerBlock)).toMatchObject({ created: true, groups: 6, submitted: 6, alreadyDone: 0, outside: 0 });
      const state = new RunState(redis, prefix, spec.runId);
      // two windows finish, their jobs leave the queue
      for (const [row, col] of [[0, 0], [0, 1]] as const) {
        const job = await queues.infer.getJob(`${spec.runId}.g.${row}-${col}`);
        expect(job!.data).toEqual({ runId: spec.runId, group: { row, col } });
        await state.completeWindow(row * 3 + col, `r${row}-c${col}`, 'done', ['D-0-0']);
        await job!.remove();
      }
      const again = await enqueueRun(redis, queues, spec, windowsPerBlock);
      expect(again).toMatchObject({ created: false, groups: 4, submitted: 4, alreadyDone: 2 });
      // the 4 pending jobs were not duplicated, the 2 done ones not re-added
      expect(await queues.infer.getJobCounts('waiting')).toMatchObject({ waiting: 4 });
    } finally {
      await queues.infer.obliterate({ force: true });
      await queues.infer.close();
      await queues.merge.close();
    }
  });

  it('enqueues groups of G x G windows, and on resume only groups with a window left', async () => {
    const prefix = uniquePrefix('groups');
    const queues = new FleetQueues(redis, prefix);
    try {
      const { spec, windowsPerBlock, geometry } = await planRun({ ...request(), groupSide: 2 });
      expect(spec.groupSide).toBe(2);
      expect(spec.runId).not.toBe((await planRun(request())).spec.runId);
      // 3 x 2 windows: group 0-0 holds columns 0-1 (4 windows), group 0-1 column 2 (2 windows)
      expect([...geometry.groups()]).toEqual([{ row: 0, col: 0 }, { row: 0, col: 1 }]);
      expect(await enqueueRun(redis, queues, spec, windowsPerBlock)).toMatchObject({ groups: 2, submitted: 6 });
      expect(await enqueueRun(redis, queues, spec, windowsPerBlock)).toMatchObject({ created: false, groups: 2 });
      expect(await queues.infer.getJobCounts('waiting')).toMatchObject({ waiting: 2 });
      const state = new RunState(redis, prefix, spec.runId);
      await state.completeWindows(
        [[0, 2], [1, 2], [0, 0]].map(([row, col]) => ({ index: row! * 3 + col!, windowId: `r${row}-c${col}`, outcome: 'done' as const, blocks: geometry.blocksOf(windowAt(geometry.plan, row!, col!)) })),
      );
      await (await queues.infer.getJob(`${spec.runId}.g.0-1`))!.remove();
      await (await queues.infer.getJob(`${spec.runId}.g.0-0`))!.remove();
      // group 0-1 is all done: not enqueued again; group 0-0 has 3 windows left
      expect(await enqueueRun(redis, queues, spec, windowsPerBlock)).toMatchObject({ groups: 1, submitted: 3, alreadyDone: 3 });
      expect((await queues.infer.getWaiting()).map((j) => j.id)).toEqual([`${spec.runId}.g.0-0`]);
      await expect(planRun({ ...request(), groupSide: 0 })).rejects.toThrow(/group side must be an integer from 1 to 64, got 0/);
    } finally {
      await queues.infer.obliterate({ force: true });
      await queues.infer.close();
      await queues.merge.close();
    }
  });
});
