/**
 * Every call the benchmark makes into the model engine and the tile postprocessing, in one
 * place, so that an engine change only touches this file. The engine runs the wrapped graph
 * (uint8 in; class ids and top-k out) on its own thread, as the worker does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PixelRect } from '@fleet/grid';
import { InferenceEngine, ONNX_FILE, type PatchInference } from '@fleet/model';
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

/** One session.run of `batch` normalised random patches (input prepared outside the timing). */
export function bareInput(session: ort.InferenceSession, batch: number, bands: number, patch: number): Record<string, ort.Tensor> {
  const data = new Float32Array(batch * bands * patch * patch);
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 4 - 2;
  return { [session.inputNames[0]!]: new ort.Tensor('float32', data, [batch, bands, patch, patch]) };
}

export const ORT_VERSION: string = ort.env.versions.node ?? 'unknown';
