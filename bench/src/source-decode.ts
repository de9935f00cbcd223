/**
 * What `fleet prepare` should write (issue 13, input side): CPU per window to read the bench
 * mosaic back through the worker's MosaicReader, for several gdal_translate -of COG settings.
 *
 *   npm run bench:source-decode -- [--windows 50] [--settings deflate-512,none-512] [--warm]
 *
 * Each setting converts the bench mosaic's 27 dalles (3x3 dalles of 1280 px, RGB + IRC + E,
 * written by `fleet demo`'s writer) once under bench/.cache/prepared-<setting>/, then reads the
 * same windows (512 px, overlap 128) with the process-wide decoded-tile cache, one at a time,
 * and reports process CPU per window (inflate on libuv's pool included), tiles decoded and
 * the bytes on disk. The first row is what fleet prepare writes today (gdal-translate.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { iterateWindows, planWindows } from '@fleet/grid';
import { DEFAULT_TILE_CACHE_BYTES, MosaicReader, sharedTileCache, type ModelBand, type SourceRoleName } from '@fleet/raster';
import { benchMosaic, CACHE_DIR, mosaicAt } from './fixtures';

const run = promisify(execFile);
const ROLES: SourceRoleName[] = ['rgb', 'irc', 'elevation'];
const BANDS: ModelBand[] = ['R', 'G', 'B', 'NIR', 'E'];

/**
 * gdal_translate creation options (and other arguments) per setting; the first is fleet
 * prepare's default. The nodata one is the default with nodata 0 declared on every dalle: every
 * window then takes the reader's per-pixel validity test. The `-band` ones store each band in
 * tiles of its own (INTERLEAVE=BAND): a reader inflates only the bands it uses (the IRC source's
 * NIR, not its R and G) and splits nothing. GDAL 3.6's COG driver has no INTERLEAVE option
 * (3.11's has), so those are plain tiled GeoTIFFs (`format`), without overviews.
 */
const SETTINGS: Array<{ name: string; options: string[]; args?: string[]; format?: string }> = [
  { name: 'deflate-predictor-512', options: ['COMPRESS=DEFLATE', 'PREDICTOR=YES', 'BLOCKSIZE=512'] },
  { name: 'deflate-512', options: ['COMPRESS=DEFLATE', 'PREDICTOR=NO', 'BLOCKSIZE=512'] },
  { name: 'deflate-256', options: ['COMPRESS=DEFLATE', 'PREDICTOR=NO', 'BLOCKSIZE=256'] },
  { name: 'deflate-level1-512', options: ['COMPRESS=DEFLATE', 'LEVEL=1', 'PREDICTOR=NO', 'BLOCKSIZE=512'] },
  { name: 'zstd-512', options: ['COMPRESS=ZSTD', 'PREDICTOR=NO', 'BLOCKSIZE=512'] },
  { name: 'zstd-predictor-512', options: ['COMPRESS=ZSTD', 'PREDICTOR=YES', 'BLOCKSIZE=512'] },
  { name: 'lzw-512', options: ['COMPRESS=LZW', 'PREDICTOR=NO', 'BLOCKSIZE=512'] },
  { name: 'none-512', options: ['COMPRESS=NONE', 'BLOCKSIZE=512'] },
  { name: 'deflate-predictor-512-band', format: 'GTiff', options: ['TILED=YES', 'BLOCKXSIZE=512', 'BLOCKYSIZE=512', 'INTERLEAVE=BAND', 'COMPRESS=DEFLATE', 'PREDICTOR=2'] },
  { name: 'deflate-512-band', format: 'GTiff', options: ['TILED=YES', 'BLOCKXSIZE=512', 'BLOCKYSIZE=512', 'INTERLEAVE=BAND', 'COMPRESS=DEFLATE'] },
  { name: 'none-512-band', format: 'GTiff', options: ['TILED=YES', 'BLOCKXSIZE=512', 'BLOCKYSIZE=512', 'INTERLEAVE=BAND'] },
  { name: 'deflate-predictor-512-nodata0', options: ['COMPRESS=DEFLATE', 'PREDICTOR=YES', 'BLOCKSIZE=512'], args: ['-a_nodata', '0'] },
];

async function prepared(source: string, setting: (typeof SETTINGS)[number]): Promise<string> {
  const dir = join(CACHE_DIR, `prepared-${setting.name}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  for (const role of ROLES) {
    await mkdir(join(partial, role), { recursive: true });
    for (const file of await readdir(join(source, role))) {
      const args = ['-q', '-of', setting.format ?? 'COG', ...setting.options.flatMap((o) => ['-co', o]), ...(setting.args ?? []), join(source, role, file), join(partial, role, file)];
      await run('gdal_translate', args);
    }
  }
  await writeFile(join(partial, 'complete'), '');
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return dir;
}

async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const role of ROLES) for (const f of await readdir(join(dir, role))) total += (await stat(join(dir, role, f))).size;
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { windows: { type: 'string' }, settings: { type: 'string' }, warm: { type: 'boolean' } } });
  const only = values.settings?.split(',');
  const unknown = only?.filter((n) => !SETTINGS.some((s) => s.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown setting(s) ${unknown.join(', ')}; known: ${SETTINGS.map((s) => s.name).join(', ')}`);
  const wanted = Number(values.windows ?? 50);
  if (!Number.isInteger(wanted) || wanted < 1) throw new Error(`--windows must be a positive integer, got ${values.windows}`);
  const mosaic = await benchMosaic(3, 1280);
  const source = join(CACHE_DIR, 'mosaic-3x3-1280');
  process.stdout.write(`machine: ${cpus().length} CPUs, node ${process.version}; load average at the start ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const plan = planWindows(mosaic.layout.width, mosaic.layout.height, { patch: 512, overlap: 128 });
  const windows = [...iterateWindows(plan)].slice(0, wanted);
  process.stdout.write(`${windows.length} windows of 512 px (overlap 128), read one at a time through the decoded-tile cache\n`);
  process.stdout.write('setting                        MB on disk   CPU ms/window   tiles decoded/window\n');
  for (const setting of SETTINGS.filter((s) => !only || only.includes(s.name))) {
    const dir = await prepared(source, setting);
    const { layout, stores } = await mosaicAt(dir);
    const reader = new MosaicReader(layout.sources.map((s) => ({ role: s.role, store: stores.get(s.role)!, dalles: s.dalles })));
    // empty cache, files opened before the clock starts (one pixel of every dalle); with
    // --warm, the windows read once first: compiled code (the JIT's, and WebAssembly's tier-up
    // from its baseline compiler) as in a worker that has read thousands of windows
    sharedTileCache.resize(0);
    sharedTileCache.resize(DEFAULT_TILE_CACHE_BYTES);
    for (const d of layout.sources[0]!.dalles) await reader.read({ x: d.x, y: d.y, width: 1, height: 1 }, BANDS);
    if (values.warm) for (const w of windows) await reader.read(w, BANDS);
    sharedTileCache.resize(0);
    sharedTileCache.resize(DEFAULT_TILE_CACHE_BYTES);
    const before = sharedTileCache.stats().misses;
    const cpu0 = process.cpuUsage();
    for (const w of windows) await reader.read(w, BANDS);
    const cpu = process.cpuUsage(cpu0);
    const decoded = sharedTileCache.stats().misses - before;
    await reader.close();
    const ms = (cpu.user + cpu.system) / 1000 / windows.length;
    process.stdout.write(`${setting.name.padEnd(30)} ${((await bytesOnDisk(dir)) / 1e6).toFixed(1).padStart(10)} ${ms.toFixed(2).padStart(15)} ${(decoded / windows.length).toFixed(2).padStart(21)}\n`);
  }
  process.stdout.write(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:source-decode failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
