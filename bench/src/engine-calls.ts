/**
 * Every call the benchmark makes into the model engine and the tile postprocessing, in one
 * place, so that an engine change only touches this file. The engine runs the wrapped graph
 * (uint8 in; class ids and top-k out) on its own thread, as the worker does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PixelRect } from '@fleet/grid';
import { InferenceEngine, loadModelManifest, ONNX_FILE, wrapModel, type PatchInference } from '@fleet/model';
import { maskTileFromOutputs, type MaskTile } from '@fleet/tiles';
import * as ort from 'onnxruntime-node';

export interface EngineSettings {
  batchSize: number;
  /** Intra-op threads; 0 = onnxruntime's choice. */
  threads: number;
}

export type Engine = InferenceEngine;
/** What the engine hands back for one patch: uint8 class ids and top-k planes. */
export type EngineOutput = PatchInference;

export function loadEngine(modelDir: string, s: EngineSettings & { topK: number }): Promise<Engine> {
  return InferenceEngine.load(modelDir, { provider: 'cpu', batchSize: s.batchSize, intraOpThreads: s.threads, warmup: true, topK: s.topK });
}

export function patchSize(engine: Engine): number {
  return engine.manifest.patch;
}

export function modelBands(engine: Engine): readonly string[] {
  return engine.manifest.bands;
}

/** One padded patch `[bands][patch][patch]` uint8 in, the engine's output out (batched inside the engine). */
export function inferPatch(engine: Engine, patch: Uint8Array): Promise<EngineOutput> {
  return engine.infer(patch);
}

/** Milliseconds the engine has spent inside session.run so far. */
export function sessionRunMs(engine: Engine): number {
  return engine.stats().runMs;
}

/** The worker's postprocessing of one window: crop the graph's outputs, keep top-k only where windows overlap. */
export function postprocess(
  engine: Engine,
  output: EngineOutput,
  w: { width: number; height: number; core: PixelRect; valid: Uint8Array | undefined },
): MaskTile {
  return maskTileFromOutputs({
    ...output,
    patch: engine.manifest.patch,
    k: engine.topK,
    width: w.width,
    height: w.height,
    core: w.core,
    valid: w.valid,
  });
}

/** A second session on the same model file with the engine's settings: the bare session.run baseline. */
export async function bareSession(modelDir: string, s: EngineSettings): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'] };
  if (s.threads) options.intraOpNumThreads = s.threads;
  return ort.InferenceSession.create(await readFile(join(modelDir, ONNX_FILE)), options);
}

/**
 * A session on the graph the engine really runs (the model wrapped with normalisation,
 * argmax, softmax and top-k), on the main thread: session.run of the same work, nothing around it.
 */
export async function bareWrappedSession(modelDir: string, s: EngineSettings & { topK: number }): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'] };
  if (s.threads) options.intraOpNumThreads = s.threads;
  const onnxFile = join(modelDir, ONNX_FILE);
  const wrapped = wrapModel(await readFile(onnxFile), await loadModelManifest(modelDir), { k: s.topK, source: onnxFile });
  return ort.InferenceSession.create(wrapped.bytes, options);
}

/** One session.run of `batch` random patches (input prepared outside the timing): normalised floats, or uint8 pixels for the wrapped graph. */
export function bareInput(session: ort.InferenceSession, batch: number, bands: number, patch: number): Record<string, ort.Tensor> {
  const dims = [batch, bands, patch, patch];
  const n = batch * bands * patch * patch;
  const meta = session.inputMetadata[0];
  if (meta?.isTensor && meta.type === 'uint8') {
    const pixels = new Uint8Array(n);
    for (let i = 0; i < n; i++) pixels[i] = Math.floor(Math.random() * 256);
    return { [session.inputNames[0]!]: new ort.Tensor('uint8', pixels, dims) };
  }
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.random() * 4 - 2;
  return { [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) };
}

export const ORT_VERSION: string = ort.env.versions.node ?? 'unknown';
