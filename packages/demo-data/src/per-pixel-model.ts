import { FLAIR_INC_BANDS, FLAIR_INC_LOGITS, normalisationTables, OnnxGraphBuilder, type ModelManifest } from '@fleet/model';
import { DEMO_MANIFEST } from './demo-model';
import type { BandPlanes } from './landscape';
import { mulberry32 } from './prng';

/**
 * A context-free model for end-to-end tests: one 1x1 convolution 5 -> 19 with seeded random
 * weights. Because no pixel sees its neighbours, tiling, overlaps and blending cannot change the
 * result: a merged map must equal the argmax over the whole mosaic at once.
 */
/** Module-local: a global lookup inside the per-pixel loop is slow under jest's vm context. */
const NEG_INF = Number.NEGATIVE_INFINITY;

export interface PerPixelModel {
  onnx: Uint8Array;
  manifest: ModelManifest;
  /** `[19][5]`: logit l = sum_b weights[l*5+b] * normalised band b + bias[l]. */
  weights: Float32Array;
  bias: Float32Array;
}

export function buildPerPixelModel(seed: number): PerPixelModel {
  const rnd = mulberry32(seed);
  const bands = FLAIR_INC_BANDS.length;
  const weights = Float32Array.from({ length: FLAIR_INC_LOGITS * bands }, () => rnd() * 2 - 1);
  const bias = Float32Array.from({ length: FLAIR_INC_LOGITS }, () => rnd() * 2 - 1);
  const g = new OnnxGraphBuilder({ channels: bands, graphName: 'per-pixel' });
  g.output(g.conv(g.input, { outChannels: FLAIR_INC_LOGITS, weights, bias }));
  return {
    onnx: g.build(),
    manifest: { ...DEMO_MANIFEST, name: `per-pixel-${seed}`, version: '1' },
    weights,
    bias,
  };
}

/**
 * The per-pixel model's class map computed in JS over a whole mosaic (argmax over the manifest's
 * classes, written as class ids). Inputs are normalised with the same float32 tables as the
 * engine; the dot products run in float64, onnxruntime's in float32 (with FMA), so logits differ
 * by ~1e-7. A pixel's class can only differ where its two best logits are that close, which with
 * weights in [-1, 1] happens for about one pixel in ten million: ties are not a concern in practice,
 * but tests comparing against this should allow for a handful of such pixels, or compare against
 * `inferWholeImage` from `@fleet/model`, which runs onnxruntime itself.
 */
export function perPixelArgmax(model: Pick<PerPixelModel, 'manifest' | 'weights' | 'bias'>, planes: BandPlanes): Uint8Array {
  const tables = normalisationTables(model.manifest);
  const bandPlanes = model.manifest.bands.map((name) => planes[name]);
  const nb = bandPlanes.length;
  const pixels = bandPlanes[0]!.length;
  const out = new Uint8Array(pixels);
  const classes = model.manifest.classes.map((c) => ({
    id: c.id,
    w: Array.from({ length: nb }, (_, b) => model.weights[c.logit * nb + b]!),
    bias: model.bias[c.logit]!,
  }));
  const v = new Float64Array(nb);
  for (let p = 0; p < pixels; p++) {
    for (let b = 0; b < nb; b++) v[b] = tables[b]![bandPlanes[b]![p]!]!;
    let best = NEG_INF;
    let bestId = 0;
    for (const c of classes) {
      let s = c.bias;
      for (let b = 0; b < nb; b++) s += c.w[b]! * v[b]!;
      if (s > best) {
        best = s;
        bestId = c.id;
      }
    }
    out[p] = bestId;
  }
  return out;
}
