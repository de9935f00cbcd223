/**
 * The worker's per-window steps around session.run, old and new side by side in one process
 * (issue 13): on a loaded machine two runs of bench:worker minutes apart differ by more than
 * some of these changes, so each variant here runs on the same window's real outputs, in
 * alternation, and is charged the process CPU (libuv's zlib threads included) it takes.
 *
 *   npm run bench:window-stages -- [--rounds 30] [--model trivial|flair]
 *
 * --model flair: the same steps on the FLAIR-shaped random model's outputs for that window (its
 * probabilities are less regular than the trivial model's, so tiles compress less).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, deflate, type BrotliOptions } from 'node:zlib';
import { exclusiveCore, iterateWindows, planWindows } from '@fleet/grid';
import { MosaicReader, type ModelBand } from '@fleet/raster';
import { LocalStore } from '@fleet/storage';
import { decodeMaskTile, encodeTileBodyAsync, maskTileFromOutputs, TILE_BROTLI, tileBodyFromOutputs, type MaskTile, type MaskTileShape } from '@fleet/tiles';
import { padToPatch } from '@fleet/worker';
import { loadEngine } from './engine-calls';
import { benchMosaic, flairShapedModel, trivialModel } from './fixtures';

/** The crop of maskTileFromOutputs before issue 13: per-pixel core test, full planes (the oracle in its test). */
function perPixelMaskTile(o: Parameters<typeof maskTileFromOutputs>[0]): MaskTile {
  const { patch, k, width, height, core } = o;
  const plane = patch * patch;
  const n = width * height;
  const crop = (source: Uint8Array, offset: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let y = 0; y < height; y++) out.set(source.subarray(offset + y * patch, offset + y * patch + width), y * width);
    return out;
  };
  const argmax = crop(o.classIds, 0);
  const softIds = Array.from({ length: k }, (_, r) => crop(o.topIds, r * plane));
  const softProbs = Array.from({ length: k }, (_, r) => crop(o.topProbs, r * plane));
  const inCore = (x: number, y: number) => x >= core.x && x < core.x + core.width && y >= core.y && y < core.y + core.height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (inCore(x, y)) {
        for (let r = 0; r < k; r++) softIds[r]![i] = softProbs[r]![i] = 0;
        continue;
      }
      if (softIds[0]![i] !== argmax[i]) {
        let j = 1;
        while (j < k && softIds[j]![i] !== argmax[i]) j++;
        if (j < k) {
          softIds[j]![i] = softIds[0]![i]!;
          const p = softProbs[j]![i]!;
          softProbs[j]![i] = softProbs[0]![i]!;
          softProbs[0]![i] = p;
        }
        softIds[0]![i] = argmax[i]!;
      }
    }
  }
  return { width, height, core, k, argmax, softIds, softProbs };
}

const deflateAsync = promisify(deflate);
const brotliAsync = promisify(brotliCompress);

/**
 * The mask tile encoding before issue 13's second part (format version 1): the 18-byte header,
 * then the body through zlib's Z_RLE strategy at `level`, one output chunk.
 */
async function zlibTile(shape: MaskTileShape, body: Uint8Array, level: number): Promise<Buffer> {
  const header = Buffer.alloc(18);
  header.writeUInt32LE(0x544d4c46, 0);
  header.writeUInt8(1, 4);
  header.writeUInt8(shape.k, 5);
  [shape.width, shape.height, shape.core.x, shape.core.y, shape.core.width, shape.core.height].forEach((v, i) => header.writeUInt16LE(v, 6 + 2 * i));
  return Buffer.concat([header, await deflateAsync(body, { level, strategy: zlibConstants.Z_RLE, chunkSize: body.length + 1024 })]);
}

/** Brotli of the body at other settings than TILE_BROTLI's (the CRC and header are the same small cost in every variant). */
function brotliBody(body: Uint8Array, quality: number, lgwin: number): Promise<Buffer> {
  const options: BrotliOptions = { chunkSize: body.length + 1024, params: { [zlibConstants.BROTLI_PARAM_QUALITY]: quality, [zlibConstants.BROTLI_PARAM_LGWIN]: lgwin } };
  return brotliAsync(body, options);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, model: { type: 'string' } } });
  const rounds = Number(values.rounds ?? 30);
  const model = values.model ?? 'trivial';
  if (model !== 'trivial' && model !== 'flair') throw new Error(`--model must be trivial or flair, got ${model}`);
  const mosaic = await benchMosaic(3, 1280);
  const plan = planWindows(mosaic.layout.width, mosaic.layout.height, { patch: 512, overlap: 128 });
  // an inner window: a core with soft borders on all four sides, like most of a large mosaic
  const w = [...iterateWindows(plan)].find((x) => x.x > 0 && x.y > 0)!;
  const engine = await loadEngine(model === 'flair' ? await flairShapedModel() : await trivialModel(), { batchSize: 1, threads: model === 'flair' ? 0 : 1, topK: 2 });
  const reader = new MosaicReader(mosaic.layout.sources.map((s) => ({ role: s.role, store: mosaic.stores.get(s.role)!, dalles: s.dalles })));
  const read = await reader.read(w, engine.manifest.bands as readonly ModelBand[]);
  const outputs = await engine.infer(padToPatch(read.planes, w.width, w.height, 512));
  const options = { ...outputs, patch: 512, k: 2, width: w.width, height: w.height, core: exclusiveCore(plan, w) };
  const separatePlanes = read.planes.map((p) => p.slice());
  const built = tileBodyFromOutputs(options);

  const pooled = new Uint8Array(built.body.length);
  const storeRoot = await mkdtemp(join(tmpdir(), 'window-stages-'));
  const store = new LocalStore(storeRoot);
  const tileBytes = await encodeTileBodyAsync(built.shape, built.body);
  const formerTileBytes = await zlibTile(built.shape, built.body, 6);
  // format 2 tiles at other brotli settings: what each costs the merger to decode
  const brotliTile = (quality: number, lgwin: number) =>
    encodeTileBodyAsync(built.shape, built.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: quality, [zlibConstants.BROTLI_PARAM_LGWIN]: lgwin } });
  const otherTiles = { q1: await brotliTile(1, 16), q0w22: await brotliTile(0, 22), q2: await brotliTile(2, 16) };
  const qualities = TILE_BROTLI.params!;

  const variants: Record<string, () => unknown> = {
    'pad: copy of separate planes (before)': () => padToPatch(separatePlanes, w.width, w.height, 512),
    'pad: one-buffer read, view (after)': () => padToPatch(read.planes, w.width, w.height, 512),
    'postprocess: per-pixel MaskTile (before)': () => perPixelMaskTile(options),
    'postprocess: row-run MaskTile': () => maskTileFromOutputs(options),
    'postprocess: body from outputs, fresh buffer': () => tileBodyFromOutputs(options),
    'postprocess: body into a reused buffer (after)': () => tileBodyFromOutputs(options, pooled),
    'encode: zlib Z_RLE level 6 (format 1, before)': () => zlibTile(built.shape, built.body, 6),
    'encode: zlib Z_RLE level 1': () => zlibTile(built.shape, built.body, 1),
    'encode: brotli q0 lgwin 22': () => brotliBody(built.body, 0, 22),
    'encode: brotli q1 lgwin 16': () => brotliBody(built.body, 1, 16),
    [`encode: TILE_BROTLI q${qualities[zlibConstants.BROTLI_PARAM_QUALITY]} lgwin ${qualities[zlibConstants.BROTLI_PARAM_LGWIN]} (format 2, after)`]: () =>
      encodeTileBodyAsync(built.shape, built.body),
    'upload: LocalStore put of the tile': () => store.put('runs/bench/tiles/r1-c1.tile', tileBytes),
    // the merger's side of the format change: decoding a tile of each version to a MaskTile
    'merger decode: format 1 tile (inflate)': () => decodeMaskTile(formerTileBytes, 'format-1'),
    'merger decode: format 2 tile (CRC-32, brotli)': () => decodeMaskTile(tileBytes, 'format-2'),
    'merger decode: format 2, brotli q1 lgwin 16': () => decodeMaskTile(otherTiles.q1, 'q1'),
    'merger decode: format 2, brotli q0 lgwin 22': () => decodeMaskTile(otherTiles.q0w22, 'q0w22'),
    'merger decode: format 2, brotli q2 lgwin 16': () => decodeMaskTile(otherTiles.q2, 'q2'),
    'encode: brotli q2 lgwin 16': () => brotliBody(built.body, 2, 16),
  };
  const bytes: Record<string, number> = {};
  const cpu: Record<string, number> = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]));
  for (const run of Object.values(variants)) await run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const before = process.cpuUsage();
      const result = await run();
      const used = process.cpuUsage(before);
      if (Buffer.isBuffer(result)) bytes[name] = result.length;
      cpu[name]! += (used.user + used.system) / 1000;
    }
  }
  process.stdout.write(`${cpus().length} CPUs, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${model} model, window ${w.id} (${w.width}x${w.height}, core ${JSON.stringify(options.core)}), ${rounds} rounds\n`);
  for (const name of Object.keys(variants)) {
    const size = bytes[name] === undefined ? '' : `  ${(bytes[name]! / 1024).toFixed(1)} KiB`;
    process.stdout.write(`  ${name.padEnd(50)} ${(cpu[name]! / rounds).toFixed(2).padStart(7)} ms CPU${size}\n`);
  }
  await rm(storeRoot, { recursive: true, force: true });
  await reader.close();
  await engine.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:window-stages failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
