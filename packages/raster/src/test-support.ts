/**
 * Test helpers (excluded from the build): temp folders, synthetic rasters, and GDAL as the
 * independent reader. GDAL cross-checks are skipped, with a message, only when gdalinfo is
 * not on PATH (CI installs gdal-bin).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const hasGdal = spawnSync('gdalinfo', ['--version']).status === 0;
if (!hasGdal) {
  // eslint-disable-next-line no-console
  console.warn('gdalinfo is not on PATH: GDAL cross-checks in @fleet/raster are SKIPPED (install gdal-bin)');
}
/** `it` when GDAL is installed, `it.skip` otherwise. */
export const itGdal: jest.It = hasGdal ? it : it.skip;

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-raster-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function gdalinfoJson(path: string): Promise<any> {
  const { stdout } = await run('gdalinfo', ['-json', '-mdd', 'all', path], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout);
}

export async function gdal(tool: string, args: string[]): Promise<string> {
  const { stdout } = await run(tool, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** GDAL's own decoding of a raster: raw band-sequential bytes via the ENVI driver. */
export async function gdalDecode(path: string, dir: string, bands: number, width: number, height: number): Promise<Uint8Array[]> {
  const out = join(dir, `decoded-${Math.random().toString(36).slice(2)}.raw`);
  await gdal('gdal_translate', ['-q', '-of', 'ENVI', '-co', 'INTERLEAVE=BSQ', path, out]);
  const raw = await readFile(out);
  expect(raw.length).toBe(bands * width * height);
  return Array.from({ length: bands }, (_, b) => new Uint8Array(raw.subarray(b * width * height, (b + 1) * width * height)));
}

/** Deterministic pseudo-random planes with some structure (so deflate has work to do). */
export function syntheticPlanes(width: number, height: number, bands: number, seed = 1): Uint8Array[] {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: bands }, (_, b) => {
    const plane = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        plane[y * width + x] = random() < 0.1 ? Math.floor(random() * 256) : (x * 7 + y * 13 + b * 51) & 255;
      }
    }
    return plane;
  });
}

/** The window of a plane, with `fill` outside it. */
export function cropPlane(plane: Uint8Array, width: number, height: number, w: { x: number; y: number; width: number; height: number }, fill: number): number[] {
  const out: number[] = [];
  for (let y = w.y; y < w.y + w.height; y++) {
    for (let x = w.x; x < w.x + w.width; x++) {
      out.push(x >= 0 && y >= 0 && x < width && y < height ? plane[y * width + x]! : fill);
    }
  }
  return out;
}

/** Tags of the first IFD of a little-endian TIFF or BigTIFF: tag -> { type, count }. */
export function listIfdEntries(file: Buffer): Map<number, { type: number; count: number }> {
  const big = file.readUInt16LE(2) === 43;
  let pos = big ? Number(file.readBigUInt64LE(8)) : file.readUInt32LE(4);
  const n = big ? Number(file.readBigUInt64LE(pos)) : file.readUInt16LE(pos);
  pos += big ? 8 : 2;
  const entries = new Map<number, { type: number; count: number }>();
  for (let i = 0; i < n; i++) {
    const count = big ? Number(file.readBigUInt64LE(pos + 4)) : file.readUInt32LE(pos + 4);
    entries.set(file.readUInt16LE(pos), { type: file.readUInt16LE(pos + 2), count });
    pos += big ? 20 : 12;
  }
  return entries;
}
