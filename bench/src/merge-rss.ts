/**
 * Peak memory of writing one big block, to check that merging streams: the merger's RSS must
 * not grow with the block (the issue: a 25,000 x 25,000 px block well under 1 GB).
 *
 *   npm run bench:merge -- writer 25000
 *     CogWriter alone fed with synthetic class tiles in row-major order: the COG pipeline
 *     (strips, mode overviews, temp files, assembly) at full size.
 *   npm run bench:merge -- merge 25000 [--patch 512] [--overlap 128] [--weighting sin2-ramp|gaussian]
 *                                      [--top-k 1|2] [--disagree 0] [--runs 1] [--compare <root>]
 *     The real mergeBlock (Redis run state, mask tiles in a local store, blending, COG) of a
 *     size x size block; tiles are generated first, the merge runs in a child process whose
 *     own peak RSS is reported. `--runs n` merges the same tiles n times (tile generation takes
 *     longer than a merge); `--compare <root>` alternates those runs between this checkout and
 *     another one's build (`<root>/bench/dist/merge-rss.js` with that root's packages), so a
 *     before/after pair shares the tiles and, as nearly as can be, the machine's load.
 *     Without `--weighting` the spec names none: a legacy run, sin^2 ramp (as before issue 13).
 *     `--disagree p`: in p % of each window's soft pixels (a different p % per window) the
 *     window swaps its top two classes (200/40 becomes 120/100 the other way): neighbours then
 *     disagree there, and the blend takes its general path instead of the agreeing shortcuts.
 *
 * `bench:merge` builds first (this imports the packages' dist); `merge` needs redis-server.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BlockIndex, exclusiveCore, iterateWindows, planWindows, type PlannedWindow, type WindowPlan } from '@fleet/grid';
import { outputKeys, RunState, type RunSpec } from '@fleet/jobs';
import { mergeBlock } from '@fleet/merger';
import { CogWriter, StageClock } from '@fleet/raster';
import { createRedisConnection, startPrivateRedis } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { encodeMaskTile, type MaskTile } from '@fleet/tiles';

const TILE = 512;
/** Blobs of classes 0..13 (0 = nodata) with 1 pixel in 8 speckled, so deflate and the mode have real work. */
function classAt(x: number, y: number): number {
  const hash = (Math.imul(x, 73856093) ^ Math.imul(y, 19349663)) >>> 0;
  if (hash % 8 === 0) return 1 + ((hash >>> 8) % 13);
  return ((x >> 7) * 7 + (y >> 7) * 13 + ((x ^ y) >> 9)) % 14;
}
const mb = (kb: number) => Math.round(kb / 1024);

async function benchWriter(size: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-bench-'));
  const path = join(dir, 'block.tif');
  const started = performance.now();
  try {
    const writer = await CogWriter.create(path, { width: size, height: size, tileSize: TILE, geoTransform: [0, 0.2, 0, 0, 0, -0.2], epsg: 2154, noData: 0 });
    const tile = new Uint8Array(TILE * TILE);
    for (let ty = 0; ty < writer.tilesDown; ty++) {
      for (let tx = 0; tx < writer.tilesAcross; tx++) {
        for (let y = 0; y < TILE; y++) for (let x = 0; x < TILE; x++) tile[y * TILE + x] = classAt(tx * TILE + x, ty * TILE + y);
        await writer.writeTile(tx, ty, tile);
      }
    }
    await writer.close();
    const bytes = (await stat(path)).size;
    console.log(JSON.stringify({ mode: 'writer', size, overviews: writer.overviewCount, fileMB: Math.round(bytes / 2 ** 20), seconds: Math.round((performance.now() - started) / 100) / 10, peakRssMB: mb(process.resourceUsage().maxRSS) }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A window's tile: the class map above, full confidence outside the core at k = 1; at k = 2
 * rank 0 at 200/255 and rank 1 another class (the next id) at 40/255, as a model's top two.
 */
function maskTile(plan: WindowPlan, w: PlannedWindow, k: number, disagreePercent = 0): MaskTile {
  const core = exclusiveCore(plan, w);
  const n = w.width * w.height;
  const argmax = new Uint8Array(n);
  const ids = [new Uint8Array(n), new Uint8Array(n)];
  const probs = [new Uint8Array(n), new Uint8Array(n)];
  for (let y = 0; y < w.height; y++) {
    for (let x = 0; x < w.width; x++) {
      const i = y * w.width + x;
      const own = classAt(w.x + x, w.y + y);
      const inCore = x >= core.x && x < core.x + core.width && y >= core.y && y < core.y + core.height;
      argmax[i] = own;
      if (inCore || own === 0) continue;
      const other = 1 + (own % 13);
      // this window's own choice of pixels to disagree on (its index is in the hash)
      const swap = disagreePercent > 0 && (Math.imul((w.x + x) ^ Math.imul(w.y + y, 83492791), 2654435761 + w.index * 40503) >>> 0) % 10_000 < disagreePercent * 100;
      if (k === 1) {
        if (swap) argmax[i] = other;
        ids[0]![i] = argmax[i]!;
        probs[0]![i] = 255;
      } else {
        argmax[i] = swap ? other : own;
        ids[0]![i] = argmax[i]!;
        ids[1]![i] = swap ? own : other;
        probs[0]![i] = swap ? 120 : 200;
        probs[1]![i] = swap ? 100 : 40;
      }
    }
  }
  return { width: w.width, height: w.height, core, k, argmax, softIds: ids.slice(0, k), softProbs: probs.slice(0, k) };
}

/** Window geometry and weighting of a bench merge (defaults: 512 px windows, 128 px overlap, no weighting named). */
interface MergeGeometry {
  patch: number;
  overlap: number;
  /** Classes kept per soft pixel: 1 (default) or 2 (the planner's default). */
  topK: number;
  weighting?: 'gaussian' | 'sin2-ramp';
  /** Percent of each window's soft pixels where it swaps its top two classes (see --disagree). */
  disagreePercent?: number;
}

function specFor(size: number, output: string, geometry: MergeGeometry): RunSpec {
  return {
    runId: 'bench',
    createdAt: new Date().toISOString(),
    mosaic: { width: size, height: size, geoTransform: [0, 0.2, 0, 0, 0, -0.2], epsg: 2154 },
    sources: [{ role: 'stack', location: '/none', dalles: [{ uri: 'a.tif', x: 0, y: 0, width: size, height: size, bands: 5 }] }],
    model: { location: '/none', name: 'bench', version: '1', classes: Array.from({ length: 13 }, (_, i) => ({ id: i + 1, name: `class ${i + 1}`, color: '#808080' })) },
    output,
    patch: geometry.patch,
    overlap: geometry.overlap,
    ...(geometry.weighting ? { weighting: geometry.weighting } : {}),
    topK: geometry.topK,
    blocks: [{ id: 'block', x: 0, y: 0, width: size, height: size }],
    windowCount: 1,
  };
}

interface MergeRuns {
  runs: number;
  /** Another checkout whose build every second run uses. */
  compare?: string;
}

async function benchMerge(size: number, geometry: MergeGeometry, runs: MergeRuns): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-bench-'));
  const redis = await startPrivateRedis();
  const connection = createRedisConnection(redis.url);
  try {
    const spec = specFor(size, dir, geometry);
    const plan = planWindows(size, size, { patch: geometry.patch, overlap: geometry.overlap });
    const windows = [...iterateWindows(plan)];
    const state = new RunState(connection, 'bench', spec.runId);
    await state.init({ ...spec, windowCount: windows.length }, new Map([['block', windows.length]]));
    const store = new LocalStore(dir);
    const index = new BlockIndex(spec.blocks);
    const generating = performance.now();
    for (const w of windows) {
      await store.put(outputKeys.maskTile(spec.runId, w.id), encodeMaskTile(maskTile(plan, w, geometry.topK, geometry.disagreePercent)));
      await state.completeWindow(w.index, w.id, 'done', index.touching(w));
    }
    const generateSeconds = Math.round((performance.now() - generating) / 100) / 10;
    console.log(JSON.stringify({ mode: 'merge', size, ...geometry, windows: windows.length, generateSeconds }));
    const childArgs = ['merge-only', String(size), dir, redis.url, JSON.stringify(geometry)];
    for (let run = 0; run < runs.runs; run++) {
      const script = runs.compare && run % 2 === 1 ? join(resolve(runs.compare), 'bench/dist/merge-rss.js') : __filename;
      const child = fork(script, childArgs, { stdio: 'inherit' });
      const code = await new Promise<number | null>((done) => child.on('exit', done));
      if (code !== 0) throw new Error(`merge child (${script}) exited with ${code}`);
    }
  } finally {
    connection.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function mergeOnly(size: number, dir: string, redisUrl: string, geometry: MergeGeometry): Promise<void> {
  const connection = createRedisConnection(redisUrl);
  try {
    const spec = specFor(size, dir, geometry);
    const state = new RunState(connection, 'bench', spec.runId);
    const clock = new StageClock();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const result = await mergeBlock(spec, spec.blocks[0]!, state, new LocalStore(dir), { fetchParallel: 8, clock });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(JSON.stringify({
      mode: 'merge-only',
      // which checkout's build merged (see --compare)
      root: resolve(__dirname, '../..'),
      size,
      fileMB: Math.round(result.bytes / 2 ** 20),
      seconds: Math.round(seconds * 10) / 10,
      mpxPerSecond: Math.round((size * size) / 1e6 / seconds * 10) / 10,
      // process CPU (every thread, zlib's pool included) over wall time: ~1 when pinned to one core
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      peakRssMB: mb(process.resourceUsage().maxRSS),
      stageMs: clock.rounded(),
    }));
  } finally {
    connection.disconnect();
  }
}

const USAGE = 'usage: merge-rss.js writer|merge <size in px> [--patch 512] [--overlap 128] [--weighting gaussian|sin2-ramp] [--top-k 1|2] [--disagree 0] [--runs 1] [--compare <root>]';

/** A positive integer option, or its default. */
function intOption(values: Record<string, string | undefined>, name: string, fallback: number, min: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"; ${USAGE}`);
  return value;
}

async function main(): Promise<void> {
  const [mode, sizeArg, ...rest] = process.argv.slice(2);
  const size = Number(sizeArg);
  if (!Number.isInteger(size) || size < 1) throw new Error(`${USAGE}; got size "${sizeArg}"`);
  if (mode === 'merge-only') {
    const [dir, redisUrl, geometry] = rest;
    if (!dir || !redisUrl || !geometry) throw new Error('merge-only <size> <dir> <redis url> <geometry json> is the bench\'s own child mode');
    return mergeOnly(size, dir, redisUrl, JSON.parse(geometry) as MergeGeometry);
  }
  const { values } = parseArgs({
    args: rest,
    options: { patch: { type: 'string' }, overlap: { type: 'string' }, weighting: { type: 'string' }, 'top-k': { type: 'string' }, disagree: { type: 'string' }, runs: { type: 'string' }, compare: { type: 'string' } },
  });
  if (mode === 'writer') return benchWriter(size);
  if (mode !== 'merge') throw new Error(`${USAGE}; got mode "${mode}"`);
  const patch = intOption(values, 'patch', 512, 1);
  const overlap = intOption(values, 'overlap', 128, 0);
  if (overlap >= patch) throw new Error(`--overlap (${overlap}) must be smaller than --patch (${patch})`);
  const weighting = values.weighting;
  if (weighting !== undefined && weighting !== 'gaussian' && weighting !== 'sin2-ramp') throw new Error(`--weighting must be gaussian or sin2-ramp, got "${weighting}"`);
  const topK = intOption(values, 'top-k', 1, 1);
  if (topK > 2) throw new Error(`--top-k must be 1 or 2, got ${topK}`);
  const disagree = Number(values.disagree ?? 0);
  if (!(disagree >= 0 && disagree <= 100)) throw new Error(`--disagree must be a percentage from 0 to 100, got "${values.disagree}"`);
  return benchMerge(size, { patch, overlap, topK, ...(weighting ? { weighting } : {}), ...(disagree > 0 ? { disagreePercent: disagree } : {}) }, { runs: intOption(values, 'runs', 1, 1), ...(values.compare ? { compare: values.compare } : {}) });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
