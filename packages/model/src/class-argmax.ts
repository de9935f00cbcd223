import type { ModelManifest } from './model-manifest';

/**
 * Per-pixel argmax over the logits the manifest lists, written as FLAIR class ids.
 * Logits the manifest leaves out (FLAIR-INC's switched-off classes) can never win, which is how
 * the model contract masks them. Ties go to the class listed first.
 *
 * @param logits `[L][pixels]` planes, as `inferWholeImage` returns them (the engine computes its
 *   class ids in the wrapped graph, see wrap-model.ts; this is the independent reference).
 * @param logitCount L.
 */
export function argmaxClassIds(logits: Float32Array, logitCount: number, manifest: Pick<ModelManifest, 'classes'>): Uint8Array {
  if (logits.length % logitCount !== 0) {
    throw new RangeError(`logits length ${logits.length} is not a multiple of logitCount ${logitCount}`);
  }
  const pixels = logits.length / logitCount;
  const classes = manifest.classes.map((c) => {
    if (c.logit >= logitCount) throw new RangeError(`class ${c.id} uses logit ${c.logit} but there are only ${logitCount}`);
    return { plane: logits.subarray(c.logit * pixels, (c.logit + 1) * pixels), id: c.id };
  });
  const out = new Uint8Array(pixels);
  const best = new Float32Array(pixels).fill(-Infinity);
  // Plane by plane keeps memory access sequential, which matters on 19 x 512 x 512 outputs.
  for (const { plane, id } of classes) {
    for (let p = 0; p < pixels; p++) {
      const v = plane[p]!;
      if (v > best[p]!) {
        best[p] = v;
        out[p] = id;
      }
    }
  }
  return out;
}
