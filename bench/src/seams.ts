/**
 * Seams benchmark (issue 13): how close does the blended map come to inferring the whole
 * mosaic at once, per overlap and window weighting, and at what compute?
 *
 *   npm run bench:seams -- [--size 2048] [--patches 512] [--overlaps 64,96,128,144,160,192,256] [--weightings all] [--threads 0] [--batch 2]
 *
 * On a synthetic 5-band mosaic (the demo landscape) and the FLAIR-shaped random-weight U-Net:
 * 1. the reference: the model run once over the whole mosaic (symbolic H/W), argmax;
 * 2. for each window size (patch), every window of every overlap's plan inferred ONCE through the
 *    worker's engine (the wrapped graph: exact argmax + top-2 quantised probabilities, the tile
 *    the worker uploads), cached on disk by patch and position (bench/.cache/seams-<size>/p<patch>/).
 *    A patch other than the model's runs a copy of the model folder whose model.json says that
 *    patch (same model.onnx: the graph has symbolic H and W), as a deployment would;
 * 3. for each patch x overlap x weighting, the windows blended as the merger does (one BlendAccumulator
 *    per 512 px output tile, every intersecting window added with the axis weights' product),
 *    and compared with the reference: inner pixels (> 256 px from the mosaic edge), the border
 *    band, and inner pixels by distance to the nearest seam.
 * Tiles keep their top-k everywhere (no exclusive core): inside a window's core no other window
 * covers the pixel, so the accumulator takes the argmax there either way: the same map.
 */
import { cpus, loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BlendAccumulator } from '@fleet/blend';
import { iterateWindows, planWindows, windowCount, type PixelRect, type PlannedWindow, type WindowPlan } from '@fleet/grid';
import { argmaxClassIds, inferWholeImage, InferenceEngine, loadModelManifest, ONNX_FILE, type ModelManifest } from '@fleet/model';
import { MosaicReader, type ModelBand } from '@fleet/raster';
import { maskTileFromOutputs } from '@fleet/tiles';
import { ORT_VERSION } from './engine-calls';
import { benchMosaic, CACHE_DIR, flairShapedModel, modelWithPatch, trivialModel } from './fixtures';
import { agreement, BORDER, percent, interiorRange, SEAM_BINS, seamDistances, type Agreement } from './seam-agreement';
import { WEIGHTINGS, weightingNamed, type Weighting } from './seam-weightings';

const USAGE = `npm run bench:seams -- [--size PX] [--patches LIST] [--overlaps LIST] [--weightings LIST|all] [--model flair|per-pixel] [--threads N] [--batch N]
  --size        mosaic side in px, a multiple of 64 (default 2048: 2x2 dalles of size/2)
  --patches     comma-separated window sides, multiples of 32 up to --size (default 512); each runs
                a copy of the model folder with that patch. IGN's baseline (patch 512, overlap 256,
                crop) is always measured too
  --overlaps    comma-separated window overlaps, each below every patch (default 64,96,128,144,160,192,256)
  --weightings  comma-separated names or "all" (default all: ${WEIGHTINGS.map((w) => w.name).join(', ')})
  --model       flair (default): the FLAIR-shaped random-weight U-Net; per-pixel: the context-free
                1x1 model, with which every setting must agree 100% (checks the bench itself)
  --threads     intra-op threads (default 0: onnxruntime's choice)
  --batch       patches per session.run (default 2)`;

const TOP_K = 2;
/** IGN flair-detect: 512 px patches of which the central 256 px are kept: (512/256)^2 inferences per pixel. */
const IGN = { patch: 512, overlap: 256, weighting: 'crop' };

interface CachedTile {
  argmax: Uint8Array;
  softIds: Uint8Array[];
  softProbs: Uint8Array[];
}

function ints(name: string, value: string | undefined, fallback: number[], min: number): number[] {
  if (value === undefined) return fallback;
  const list = value.split(',').map((s) => Number(s.trim()));
  for (const n of list) if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: every entry must be an integer >= ${min}, got "${value}"\n${USAGE}`);
  return list;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      patches: { type: 'string' },
      overlaps: { type: 'string' },
      weightings: { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      batch: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [size] = ints('size', values.size, [2048], 512);
  if (size! % 64 !== 0) throw new Error(`--size must be a multiple of 64, got ${size}\n${USAGE}`);
  const patches = ints('patches', values.patches, [512], 32);
  for (const p of patches) if (p % 32 !== 0 || p > size!) throw new Error(`--patches: each must be a multiple of 32 no larger than --size ${size}, got ${p}\n${USAGE}`);
  const overlaps = ints('overlaps', values.overlaps, [64, 96, 128, 144, 160, 192, 256], 0);
  for (const o of overlaps) if (o >= Math.min(...patches)) throw new Error(`--overlaps: each must be below every patch, got ${o}\n${USAGE}`);
  const weightings = !values.weightings || values.weightings === 'all' ? WEIGHTINGS : values.weightings.split(',').map((n) => weightingNamed(n.trim()));
  const modelKind = values.model ?? 'flair';
  if (modelKind !== 'flair' && modelKind !== 'per-pixel') throw new Error(`--model must be flair or per-pixel, got ${modelKind}\n${USAGE}`);
  const [threads] = ints('threads', values.threads, [0], 0);
  const [batch] = ints('batch', values.batch, [2], 1);
  const started = new Date();
  log(`date: ${started.toISOString()}; machine: ${cpus().length} CPUs, node ${process.version}, onnxruntime-node ${ORT_VERSION}, CPU provider`);
  log(`load average at the start: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const mosaic = await benchMosaic(2, size! / 2);
  const W = mosaic.layout.width;
  const H = mosaic.layout.height;
  const modelDir = modelKind === 'flair' ? await flairShapedModel() : await trivialModel();
  const manifest = await loadModelManifest(modelDir);
  const reader = new MosaicReader(mosaic.layout.sources.map((s) => ({ role: s.role, store: mosaic.stores.get(s.role)!, dalles: s.dalles })));
  const cacheDir = join(CACHE_DIR, `seams-${W}x${H}-${manifest.version}`);
  await mkdir(cacheDir, { recursive: true });
  log(`mosaic ${W}x${H} px (demo landscape, R G B NIR E), model ${manifest.name} ${manifest.version}, patches ${patches.join(', ')}, top-${TOP_K}`);

  try {
    const reference = await wholeMosaicArgmax(reader, modelDir, manifest, W, H, cacheDir);
    const classIds = manifest.classes.map((c) => c.id);
    const rows: Row[] = [];
    for (const { patch, overlaps: patchOverlaps } of settingsWithBaseline(patches, overlaps)) {
      // Tiles are kept per patch only: a 4096 px mosaic's tiles of every patch would not all fit comfortably.
      const patchDir = await modelWithPatch(modelDir, patch);
      const patchManifest = await loadModelManifest(patchDir);
      const plans = patchOverlaps.map((overlap) => planWindows(W, H, { patch, overlap }));
      const patchCache = join(cacheDir, `p${patch}`);
      await mkdir(patchCache, { recursive: true });
      const tiles = await inferWindowsOnce(plans, reader, patchDir, patchManifest, { threads: threads!, batch: batch! }, patchCache);
      for (const plan of plans) {
        const seamX = seamDistances(W, plan.colStarts, plan.patch);
        const seamY = seamDistances(H, plan.rowStarts, plan.patch);
        const interiorX = interiorRange(plan.colStarts, plan.patch);
        const interiorY = interiorRange(plan.rowStarts, plan.patch);
        let inferred = 0;
        for (const w of iterateWindows(plan)) inferred += w.width * w.height;
        for (const weighting of weightingsFor(plan, weightings)) {
          const blended = blendAsTheMergerDoes(plan, tiles, weighting, classIds);
          rows.push({ patch, overlap: plan.overlap, weighting: weighting.name, windows: windowCount(plan), factor: inferred / (W * H), largeFactor: (plan.patch / (plan.patch - plan.overlap)) ** 2, agreement: agreement(reference, blended, W, H, seamX, seamY, interiorX, interiorY) });
        }
      }
    }
    report(rows);
    log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${((Date.now() - started.getTime()) / 60000).toFixed(1)} min in all`);
    log(JSON.stringify({ date: started.toISOString(), size: W, rows: rows.map((r) => ({ ...r, agreement: { inner: percent(r.agreement.inner), interior: percent(r.agreement.interior), border: percent(r.agreement.border), bySeam: r.agreement.bySeam.map(percent) } })) }));
  } finally {
    await reader.close();
  }
}

/**
 * The (patch, overlaps) pairs to measure: every patch with every overlap, plus IGN's scheme
 * (patch 512, overlap 256) when the lists leave it out: every table carries its baseline.
 */
function settingsWithBaseline(patches: readonly number[], overlaps: readonly number[]): Array<{ patch: number; overlaps: number[] }> {
  const settings = patches.map((patch) => ({ patch, overlaps: [...overlaps] }));
  let ign = settings.find((s) => s.patch === IGN.patch);
  if (!ign) settings.unshift((ign = { patch: IGN.patch, overlaps: [] }));
  if (!ign.overlaps.includes(IGN.overlap)) ign.overlaps.push(IGN.overlap);
  return settings;
}

/** The weightings asked for, plus IGN's crop on IGN's plan when they leave it out. */
function weightingsFor(plan: WindowPlan, weightings: readonly Weighting[]): readonly Weighting[] {
  const isIgn = plan.patch === IGN.patch && plan.overlap === IGN.overlap;
  return isIgn && !weightings.some((w) => w.name === IGN.weighting) ? [...weightings, weightingNamed(IGN.weighting)] : weightings;
}

/** The model over the whole mosaic in one session.run: the map no seam can touch. Cached. */
async function wholeMosaicArgmax(reader: MosaicReader, modelDir: string, manifest: ModelManifest, W: number, H: number, cacheDir: string): Promise<Uint8Array> {
  const file = join(cacheDir, 'reference.bin');
  if (existsSync(file)) return new Uint8Array(await readFile(file));
  const t0 = performance.now();
  const { planes, valid } = await reader.read({ x: 0, y: 0, width: W, height: H }, manifest.bands as ModelBand[]);
  const input = new Uint8Array(planes.length * W * H);
  planes.forEach((p, b) => input.set(p, b * W * H));
  const logits = await inferWholeImage(await readFile(join(modelDir, ONNX_FILE)), manifest, input, W, H);
  const classes = argmaxClassIds(logits, logits.length / (W * H), manifest);
  for (let i = 0; i < classes.length; i++) if (valid[i] === 0) classes[i] = 0;
  await writeAtomically(file, classes);
  log(`reference: whole mosaic in one pass, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return classes;
}

const key = (w: PixelRect) => `${w.x}-${w.y}`;

/** Every distinct window position of all the plans through the worker's engine, once; tiles cached on disk. */
async function inferWindowsOnce(
  plans: readonly WindowPlan[],
  reader: MosaicReader,
  modelDir: string,
  manifest: ModelManifest,
  s: { threads: number; batch: number },
  cacheDir: string,
): Promise<Map<string, CachedTile>> {
  const positions = new Map<string, PlannedWindow>();
  for (const plan of plans) for (const w of iterateWindows(plan)) positions.set(key(w), w);
  const tiles = new Map<string, CachedTile>();
  const todo: PlannedWindow[] = [];
  for (const [k, w] of positions) {
    const file = join(cacheDir, `w${k}.bin`);
    if (existsSync(file)) tiles.set(k, unpack(new Uint8Array(await readFile(file)), w.width * w.height));
    else todo.push(w);
  }
  log(`windows: ${positions.size} distinct positions over ${plans.length} plans, ${tiles.size} cached, ${todo.length} to infer`);
  if (todo.length === 0) return tiles;
  const engine = await InferenceEngine.load(modelDir, { provider: 'cpu', batchSize: s.batch, intraOpThreads: s.threads, warmup: true, topK: TOP_K });
  const t0 = performance.now();
  let done = 0;
  const total = todo.length;
  try {
    const next = async (): Promise<void> => {
      for (let w = todo.shift(); w; w = todo.shift()) {
        if (w.width !== manifest.patch || w.height !== manifest.patch) throw new Error(`window ${key(w)} is ${w.width}x${w.height}; the bench needs a mosaic of at least one patch`);
        const { planes, valid } = await reader.read(w, manifest.bands as ModelBand[]);
        const n = w.width * w.height;
        const patch = new Uint8Array(planes.length * n);
        planes.forEach((p, b) => patch.set(p, b * n));
        const out = await engine.infer(patch);
        const tile = maskTileFromOutputs({ ...out, patch: manifest.patch, k: engine.topK, width: w.width, height: w.height, core: { x: 0, y: 0, width: 0, height: 0 }, valid });
        tiles.set(key(w), tile);
        await writeAtomically(join(cacheDir, `w${key(w)}.bin`), pack(tile));
        done++;
        const perWindow = (performance.now() - t0) / 1000 / done;
        log(`  ${done}/${total} windows, ${perWindow.toFixed(1)} s/window, about ${((todo.length * perWindow) / 60).toFixed(0)} min left`);
      }
    };
    await Promise.all(Array.from({ length: s.batch }, next));
  } finally {
    await engine.close();
  }
  return tiles;
}

/** The merger's blend (apps/merger merge-block): per 512 px output tile, every window over it, weighted. */
export function blendAsTheMergerDoes(plan: WindowPlan, tiles: Map<string, CachedTile>, weighting: Weighting, classIds: readonly number[]): Uint8Array {
  const OUTPUT_TILE = 512;
  const out = new Uint8Array(plan.width * plan.height);
  const weights = new Map<number, Float32Array>();
  const weightsOf = (size: number) => {
    let w = weights.get(size);
    if (!w) weights.set(size, (w = weighting.axis(size, plan.overlap)));
    return w;
  };
  const windows = [...iterateWindows(plan)];
  for (let ty = 0; ty < plan.height; ty += OUTPUT_TILE) {
    for (let tx = 0; tx < plan.width; tx += OUTPUT_TILE) {
      const rect = { x: tx, y: ty, width: Math.min(OUTPUT_TILE, plan.width - tx), height: Math.min(OUTPUT_TILE, plan.height - ty) };
      const acc = new BlendAccumulator(rect.width, rect.height, classIds);
      for (const w of windows) {
        if (w.x >= rect.x + rect.width || w.x + w.width <= rect.x || w.y >= rect.y + rect.height || w.y + w.height <= rect.y) continue;
        const tile = tiles.get(key(w))!;
        acc.add({ width: w.width, height: w.height, ...tile, weightsX: weightsOf(w.width), weightsY: weightsOf(w.height), offsetX: w.x - rect.x, offsetY: w.y - rect.y });
      }
      const classes = acc.resolve();
      for (let y = 0; y < rect.height; y++) out.set(classes.subarray(y * rect.width, (y + 1) * rect.width), (rect.y + y) * plan.width + rect.x);
    }
  }
  return out;
}

interface Row {
  /** Window side, px. */
  patch: number;
  overlap: number;
  weighting: string;
  windows: number;
  /** Inferred pixels per output pixel on this mosaic (the last window of an axis is snapped inside: small mosaics pay more). */
  factor: number;
  /** (patch / (patch - overlap))^2: the factor on a mosaic many windows wide. */
  largeFactor: number;
  agreement: Agreement;
}

function report(rows: readonly Row[]): void {
  const bins = [...SEAM_BINS.map((b, i) => `${i === 0 ? 0 : SEAM_BINS[i - 1]}-${b}`), `>=${SEAM_BINS[SEAM_BINS.length - 1]}`];
  log(`\nagreement with the whole-mosaic argmax, % of pixels (inner: > ${BORDER} px from the mosaic edge; interior: inner pixels that no window of the first or last row or column covers, as in the middle of a large mosaic; seam bins: inner pixels by px to the nearest window edge)`);
  log(`| patch | overlap | weighting | windows | factor here | factor large | inner % | interior % | border % | ${bins.map((b) => `seam ${b}`).join(' | ')} |`);
  log(`|---|---|---|---|---|---|---|---|---|${bins.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const ign = r.patch === IGN.patch && r.overlap === IGN.overlap && r.weighting === IGN.weighting ? ` (IGN flair-detect scheme)` : '';
    log(`| ${r.patch} | ${r.overlap} | ${r.weighting}${ign} | ${r.windows} | ${r.factor.toFixed(2)} | ${r.largeFactor.toFixed(2)} | ${percent(r.agreement.inner)} | ${percent(r.agreement.interior)} | ${percent(r.agreement.border)} | ${r.agreement.bySeam.map(percent).join(' | ')} |`);
  }
  log('\nweightings:');
  for (const w of WEIGHTINGS.filter((x) => rows.some((r) => r.weighting === x.name))) log(`  ${w.name.padEnd(11)} ${w.about}`);
}

function pack(t: CachedTile): Uint8Array {
  const n = t.argmax.length;
  const out = new Uint8Array(n * (1 + 2 * TOP_K));
  [t.argmax, ...t.softIds, ...t.softProbs].forEach((p, i) => out.set(p, i * n));
  return out;
}

function unpack(bytes: Uint8Array, n: number): CachedTile {
  if (bytes.length !== n * (1 + 2 * TOP_K)) throw new Error(`cached tile has ${bytes.length} bytes; expected ${n * (1 + 2 * TOP_K)} (delete bench/.cache/seams-*)`);
  const plane = (i: number) => bytes.subarray(i * n, (i + 1) * n);
  return { argmax: plane(0), softIds: Array.from({ length: TOP_K }, (_, r) => plane(1 + r)), softProbs: Array.from({ length: TOP_K }, (_, r) => plane(1 + TOP_K + r)) };
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${file}.partial`, bytes);
  await rename(`${file}.partial`, file);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:seams failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
