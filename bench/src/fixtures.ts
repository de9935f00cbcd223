import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildPerPixelModel } from '@fleet/demo-data';
import { layOutMosaic, scanSource, type MosaicLayout, type SourceRoleName } from '@fleet/raster';
import { LocalStore } from '@fleet/storage';
// the demo's dalle writer (apps/cli exports only its entry point)
import { writeDemoMosaic } from '../../apps/cli/dist/demo-mosaic';

const run = promisify(execFile);

/** Where generated models and mosaics are kept between runs (ignored by git). */
export const CACHE_DIR = resolve(__dirname, '..', '.cache');
const REPO = resolve(__dirname, '..', '..');

/**
 * The FLAIR-INC architecture with random weights (U-Net/ResNet-34, 5 -> 19, ~97 MB), written
 * once by tools/flair-export with the system python that has torch. Patch 512 whatever
 * models/flair-inc says: the benches' figures are per 512 px window (bench:seams makes copies at
 * other patches with modelWithPatch).
 */
export async function flairShapedModel(): Promise<string> {
  const dir = join(CACHE_DIR, 'flair-random-seed42');
  if (existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'model.json'))) return dir;
  process.stderr.write(`exporting a random-weight FLAIR-INC model to ${dir} (tools/flair-export)...\n`);
  try {
    await run('/usr/bin/python3', ['-m', 'flair_export', '--random', '--seed', '42', '--patch', '512', '--out', dir], {
      cwd: REPO,
      env: { ...process.env, PYTHONPATH: join(REPO, 'tools', 'flair-export') },
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`tools/flair-export failed (needs /usr/bin/python3 with python3-torch and python3-onnx): ${stderr.trim() || String(err)}`);
  }
  return dir;
}

/** The context-free 1x1-convolution model (packages/demo-data): session.run costs next to nothing. */
export async function trivialModel(): Promise<string> {
  const dir = join(CACHE_DIR, 'per-pixel-seed7');
  if (existsSync(join(dir, 'model.json'))) return dir;
  const { onnx, manifest } = buildPerPixelModel(7);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), onnx);
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

/**
 * The model folder `dir` with its windows `patch` px wide: a sibling folder whose model.json
 * differs only in `patch` and whose model.onnx links to the original (the FLAIR graph has
 * symbolic H and W, so one graph runs every window size). `dir` itself when it already has
 * that patch.
 */
export async function modelWithPatch(dir: string, patch: number): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { patch?: number };
  if ((manifest.patch ?? 512) === patch) return dir;
  const copy = `${dir}-patch${patch}`;
  if (existsSync(join(copy, 'model.json'))) return copy;
  const partial = `${copy}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  await symlink(resolve(dir, 'model.onnx'), join(partial, 'model.onnx'));
  await writeFile(join(partial, 'model.json'), `${JSON.stringify({ ...manifest, patch }, null, 2)}\n`);
  await rename(partial, copy);
  return copy;
}

export interface BenchMosaic {
  layout: MosaicLayout;
  stores: Map<SourceRoleName, LocalStore>;
}

/**
 * `dalles` x `dalles` BD ORTHO-like deliveries (RGB, IRC = NIR,R,G, and elevation E as
 * separate GeoTIFFs, Deflate, 256 px tiles), written by `fleet demo`'s own writer and laid
 * out as the coordinator does (scanSource + layOutMosaic).
 */
export async function benchMosaic(dalles: number, dallePx: number): Promise<BenchMosaic> {
  const dir = join(CACHE_DIR, `mosaic-${dalles}x${dalles}-${dallePx}`);
  if (!existsSync(join(dir, 'complete'))) {
    process.stderr.write(`writing a ${dalles}x${dalles} mosaic of ${dallePx} px dalles to ${dir}...\n`);
    await rm(dir, { recursive: true, force: true });
    const partial = `${dir}.partial`;
    await rm(partial, { recursive: true, force: true });
    await writeDemoMosaic(partial, dalles, dallePx, 2154);
    await writeFile(join(partial, 'complete'), '');
    await rename(partial, dir);
  }
  return mosaicAt(dir);
}

/**
 * The mosaic of the rgb/, irc/ and elevation/ folders under `dir` (benchMosaic's, or one
 * `bench:source-decode` converted with a gdal_translate setting), laid out as the coordinator does.
 */
export async function mosaicAt(dir: string): Promise<BenchMosaic> {
  const roles: SourceRoleName[] = ['rgb', 'irc', 'elevation'];
  const stores = new Map(roles.map((r) => [r, new LocalStore(join(dir, r))] as const));
  const scanned = [];
  for (const role of roles) scanned.push(await scanSource(stores.get(role)!, role));
  return { layout: layOutMosaic(scanned), stores };
}
