/**
 * The worker's per-window steps around session.run, old and new side by side in one process
 * (issue 13): on a loaded machine two runs of bench:worker minutes apart differ by more than
 * some of these changes, so each variant here runs on the same window's real outputs, in
 * alternation, and is charged the process CPU (libuv's zlib threads included) it takes.
 *
 *   npm run bench:window-stages -- [--rounds 30]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { exclusiveCore, iterateWindows, planWindows } from '@fleet/grid';
import { MosaicReader, type ModelBand } from '@fleet/raster';
import { encodeMaskTileAsync, encodeTileBodyAsync, maskTileFromOutputs, TILE_DEFLATE, tileBodyFromOutputs, type MaskTile } from '@fleet/tiles';
import { padToPatch } from '@fleet/worker';
import { loadEngine } from './engine-calls';
import { benchMosaic, trivialModel } from './fixtures';

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
  const rounds = Number(values.rounds ?? 30);
  const mosaic = await benchMosaic(3, 1280);
  const plan = planWindows(mosaic.layout.width, mosaic.layout.height, { patch: 512, overlap: 128 });
  // an inner window: a core with soft borders on all four sides, like most of a large mosaic
  const w = [...iterateWindows(plan)].find((x) => x.x > 0 && x.y > 0)!;
  const engine = await loadEngine(await trivialModel(), { batchSize: 1, threads: 1, topK: 2 });
  const reader = new MosaicReader(mosaic.layout.sources.map((s) => ({ role: s.role, store: mosaic.stores.get(s.role)!, dalles: s.dalles })));
  const read = await reader.read(w, engine.manifest.bands as readonly ModelBand[]);
  const outputs = await engine.infer(padToPatch(read.planes, w.width, w.height, 512));
  const options = { ...outputs, patch: 512, k: 2, width: w.width, height: w.height, core: exclusiveCore(plan, w) };
  const separatePlanes = read.planes.map((p) => p.slice());
  const tile = maskTileFromOutputs(options);
  const built = tileBodyFromOutputs(options);

  const variants: Record<string, () => unknown> = {
    'pad: copy of separate planes (before)': () => padToPatch(separatePlanes, w.width, w.height, 512),
    'pad: one-buffer read, view (after)': () => padToPatch(read.planes, w.width, w.height, 512),
    'postprocess: per-pixel MaskTile (before)': () => perPixelMaskTile(options),
    'postprocess: row-run MaskTile': () => maskTileFromOutputs(options),
    'postprocess: body from outputs (after)': () => tileBodyFromOutputs(options),
    'encode: MaskTile, 16 KiB output chunks (before)': () => encodeMaskTileAsync(tile, { ...TILE_DEFLATE, chunkSize: 16 * 1024 }),
    'encode: MaskTile, one output chunk': () => encodeMaskTileAsync(tile),
    'encode: body from outputs, one chunk (after)': () => encodeTileBodyAsync(built.shape, built.body),
  };
  const cpu: Record<string, number> = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]));
  for (const run of Object.values(variants)) await run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const before = process.cpuUsage();
      await run();
      const used = process.cpuUsage(before);
      cpu[name]! += (used.user + used.system) / 1000;
    }
  }
  process.stdout.write(`${cpus().length} CPUs, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; window ${w.id} (${w.width}x${w.height}, core ${JSON.stringify(options.core)}), ${rounds} rounds\n`);
  for (const name of Object.keys(variants)) process.stdout.write(`  ${name.padEnd(44)} ${(cpu[name]! / rounds).toFixed(2).padStart(7)} ms CPU\n`);
  await reader.close();
  await engine.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:window-stages failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
