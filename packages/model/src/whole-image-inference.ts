import * as ort from 'onnxruntime-node';
import type { ModelManifest } from './model-manifest';
import { normalisationTables, normaliseInto } from './normalisation';

/**
 * Runs a user's model (not the wrapped graph) once over a whole image of any size and returns
 * its raw logits. For reference results in tests: with a context-free (1x1) model the
 * patch-by-patch pipeline must reproduce its argmax exactly. The inputs are normalised with
 * `normalisationTables`, bit-identical to the wrapped graph's in-graph normalisation, so the
 * model sees the same floats. Needs a graph with symbolic H and W.
 *
 * @param input band-separate raw planes `[bands][height][width]` in manifest band order.
 * @returns float32 logits `[L][height][width]`.
 */
export async function inferWholeImage(
  onnx: Uint8Array,
  manifest: Pick<ModelManifest, 'bands' | 'mean' | 'std' | 'input' | 'output'>,
  input: Uint8Array,
  width: number,
  height: number,
): Promise<Float32Array> {
  const bands = manifest.bands.length;
  if (input.length !== bands * width * height) {
    throw new RangeError(`input has ${input.length} bytes; expected ${bands} x ${width} x ${height}`);
  }
  const data = new Float32Array(input.length);
  normaliseInto(normalisationTables(manifest), input, data);
  const session = await ort.InferenceSession.create(onnx);
  try {
    const inputName = manifest.input ?? session.inputNames[0]!;
    const outputName = manifest.output ?? session.outputNames[0]!;
    const result = await session.run({ [inputName]: new ort.Tensor('float32', data, [1, bands, height, width]) });
    return result[outputName]!.data as Float32Array;
  } finally {
    await session.release();
  }
}
