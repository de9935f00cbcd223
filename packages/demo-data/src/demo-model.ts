import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FLAIR_INC_BANDS,
  FLAIR_INC_CLASSES,
  FLAIR_INC_LOGITS,
  FLAIR_INC_MEAN,
  FLAIR_INC_STD,
  normalisationTables,
  OnnxGraphBuilder,
  type ModelManifest,
} from '@fleet/model';
import { generateLandscape, type BandPlanes } from './landscape';
import { mulberry32 } from './prng';

/**
 * The demo model: a FLAIR-INC-compatible ONNX model (5 bands R,G,B,NIR,E with FLAIR's
 * normalisation in, 19 logits out) small enough to run anywhere, so the whole pipeline can be
 * shown without IGN's weights. Shape: 3x3 conv 5 -> 64, ReLU, 1x1 conv 64 -> 19.
 *
 * The first layer is designed, not trained: ten units pass each band's 3x3 neighbourhood mean
 * through (as ReLU(x) and ReLU(-x)), the rest are hinges on random directions placed at real
 * pixels ("random features"). Only the last layer is fitted, by one ridge regression to one-hot
 * targets on a generated landscape: deterministic, exact, and about a second of JS.
 */

const HIDDEN = 64;
const BANDS = 5;
const K = 3;
/** Seeds of the landscapes the output layer is fitted on (tests use others): several, so every crop tone shows up. */
const TRAIN_SEEDS = [20240613, 1789, 1515, 987654];
const TRAIN_SIZE = 1024;
/** Uniformly drawn training pixels per landscape, plus a few per class so small classes (pools, buildings) count. */
const UNIFORM_SAMPLES = 16000;
const PER_CLASS_SAMPLES = 400;
const RIDGE = 1e-3;
/** Logit for the switched-off classes: they are masked anyway, this keeps them out of softmax too. */
const OFF_LOGIT = -20;

export interface DemoModel {
  onnx: Uint8Array;
  manifest: ModelManifest;
}

export const DEMO_MANIFEST: ModelManifest = {
  name: 'flair-fleet-demo_RVBIE_conv3x3-64_15cl',
  version: '1.0.0',
  bands: FLAIR_INC_BANDS,
  mean: FLAIR_INC_MEAN,
  std: FLAIR_INC_STD,
  patch: 512,
  classes: FLAIR_INC_CLASSES,
};

/** First-layer weights `[HIDDEN][BANDS][3][3]` and biases, in the normalised input space. */
function designFirstLayer(samples: Float64Array[], rnd: () => number): { w: Float32Array; b: Float32Array } {
  const w = new Float32Array(HIDDEN * BANDS * K * K);
  const b = new Float32Array(HIDDEN);
  // Centre-weighted smoothing: the pixel itself counts as much as its 8 neighbours together.
  const spatial = [1, 1, 1, 1, 8, 1, 1, 1, 1].map((v) => v / 16);
  const unit = (h: number, direction: number[], bias: number): void => {
    for (let c = 0; c < BANDS; c++) for (let s = 0; s < K * K; s++) w[((h * BANDS + c) * K * K) + s] = direction[c]! * spatial[s]!;
    b[h] = bias;
  };
  let h = 0;
  for (let c = 0; c < BANDS; c++) {
    for (const sign of [1, -1]) {
      const d = [0, 0, 0, 0, 0];
      d[c] = sign;
      unit(h++, d, 0);
    }
  }
  while (h < HIDDEN) {
    // Gaussian-ish direction (sum of uniforms), hinge placed at a random training pixel's smoothed value.
    const d = Array.from({ length: BANDS }, () => rnd() + rnd() + rnd() - 1.5);
    const norm = Math.hypot(...d);
    const dir = d.map((v) => v / norm);
    const anchor = samples[Math.floor(rnd() * samples.length)]!;
    let at = 0;
    for (let c = 0; c < BANDS; c++) for (let s = 0; s < K * K; s++) at += dir[c]! * spatial[s]! * anchor[c * K * K + s]!;
    unit(h++, dir, -at);
  }
  return { w, b };
}

/** Normalised 3x3 neighbourhoods `[band][3][3]` of the chosen pixels (all interior). */
function neighbourhoods(planes: BandPlanes, width: number, pixels: number[]): Float64Array[] {
  const tables = normalisationTables(DEMO_MANIFEST);
  const bands = FLAIR_INC_BANDS.map((name) => planes[name]);
  return pixels.map((p) => {
    const v = new Float64Array(BANDS * K * K);
    bands.forEach((plane, c) => {
      const lut = tables[c]!;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) v[c * 9 + (dy + 1) * 3 + dx + 1] = lut[plane[p + dy * width + dx]!]!;
    });
    return v;
  });
}

function hidden(v: Float64Array, w: Float32Array, b: Float32Array, out: Float64Array): void {
  const n = BANDS * K * K;
  for (let h = 0; h < HIDDEN; h++) {
    let s = b[h]!;
    for (let i = 0; i < n; i++) s += w[h * n + i]! * v[i]!;
    out[h] = s > 0 ? s : 0;
  }
  out[HIDDEN] = 1; // bias feature
}

/** Solves the symmetric positive definite system A x = y (n x n, row-major) by Cholesky; A is overwritten. */
function choleskySolve(a: Float64Array, n: number, rhs: Float64Array[]): Float64Array[] {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! ** 2;
    if (d <= 0) throw new Error('demo model fit: normal equations are not positive definite');
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / l;
    }
  }
  return rhs.map((y) => {
    const z = Float64Array.from(y);
    for (let i = 0; i < n; i++) {
      let s = z[i]!;
      for (let k = 0; k < i; k++) s -= a[i * n + k]! * z[k]!;
      z[i] = s / a[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = z[i]!;
      for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * z[k]!;
      z[i] = s / a[i * n + i]!;
    }
    return z;
  });
}

function samplePixels(truth: Uint8Array, size: number, rnd: () => number): number[] {
  const interior = (): number => (1 + Math.floor(rnd() * (size - 2))) * size + 1 + Math.floor(rnd() * (size - 2));
  const picked: number[] = [];
  for (let i = 0; i < UNIFORM_SAMPLES; i++) picked.push(interior());
  const byClass = new Map<number, number[]>();
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const p = y * size + x;
      const list = byClass.get(truth[p]!) ?? [];
      list.push(p);
      byClass.set(truth[p]!, list);
    }
  }
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(cls)!;
    for (let i = 0; i < PER_CLASS_SAMPLES; i++) picked.push(list[Math.floor(rnd() * list.length)]!);
  }
  return picked;
}

let cached: DemoModel | undefined;

/** Builds (once per process; it is deterministic) the demo model and its manifest. */
export function buildDemoModel(): DemoModel {
  if (cached) return cached;
  const rnd = mulberry32(0xdec0de);
  const inputs: Float64Array[] = [];
  const labels: number[] = [];
  for (const seed of TRAIN_SEEDS) {
    const { planes, truth } = generateLandscape({ width: TRAIN_SIZE, height: TRAIN_SIZE, seed });
    const pixels = samplePixels(truth, TRAIN_SIZE, rnd);
    inputs.push(...neighbourhoods(planes, TRAIN_SIZE, pixels));
    labels.push(...pixels.map((p) => truth[p]!));
  }
  const first = designFirstLayer(inputs, rnd);

  // Normal equations of the ridge regression from hidden features to one-hot logits.
  const n = HIDDEN + 1;
  const ata = new Float64Array(n * n);
  const logitOf = new Map(FLAIR_INC_CLASSES.map((c) => [c.id, c.logit]));
  const aty = Array.from({ length: FLAIR_INC_LOGITS }, () => new Float64Array(n));
  const f = new Float64Array(n);
  inputs.forEach((v, s) => {
    hidden(v, first.w, first.b, f);
    for (let i = 0; i < n; i++) {
      const fi = f[i]!;
      if (fi === 0) continue;
      for (let j = 0; j <= i; j++) ata[i * n + j]! += fi * f[j]!;
    }
    const logit = logitOf.get(labels[s]!);
    if (logit !== undefined) {
      const row = aty[logit]!;
      for (let i = 0; i < n; i++) row[i]! += f[i]!;
    }
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) ata[j * n + i] = ata[i * n + j]!;
    ata[i * n + i]! += RIDGE * inputs.length;
  }
  const solved = choleskySolve(ata, n, aty);

  const w2 = new Float32Array(FLAIR_INC_LOGITS * HIDDEN);
  const b2 = new Float32Array(FLAIR_INC_LOGITS).fill(OFF_LOGIT);
  for (const c of FLAIR_INC_CLASSES) {
    const x = solved[c.logit]!;
    for (let h = 0; h < HIDDEN; h++) w2[c.logit * HIDDEN + h] = x[h]!;
    b2[c.logit] = x[HIDDEN]!;
  }

  const g = new OnnxGraphBuilder({ channels: BANDS, graphName: DEMO_MANIFEST.name });
  const features = g.relu(g.conv(g.input, { outChannels: HIDDEN, kernel: K, weights: first.w, bias: first.b }));
  g.output(g.conv(features, { outChannels: FLAIR_INC_LOGITS, weights: w2, bias: b2 }));
  cached = { onnx: g.build(), manifest: DEMO_MANIFEST };
  return cached;
}

/** Writes the demo model folder: `dir/model.onnx` and `dir/model.json`. */
export async function writeDemoModel(dir: string): Promise<void> {
  const { onnx, manifest } = buildDemoModel();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), onnx);
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
