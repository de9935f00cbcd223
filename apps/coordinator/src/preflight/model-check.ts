import { InferenceEngine, loadModelManifest, ONNX_FILE, type ExecutionProvider } from '@fleet/model';
import { join, resolve } from 'node:path';
import { PreflightError } from './preflight-error';

/**
 * Loads the model once, exactly as a worker will (InferenceEngine: model.json, the wrapped
 * graph, the session on its thread, the logit count against the manifest), on the provider
 * workers are configured for, then releases it. A garbage model.onnx fails here, once, instead
 * of failing every window. A provider missing on this machine is a warning only: workers fall
 * back the same way (README, FLEET_PROVIDER), and with `fleet enqueue` they may run elsewhere.
 */
export async function checkModel(modelDir: string, provider: ExecutionProvider, warn: (msg: string) => void): Promise<void> {
  const dir = resolve(modelDir);
  try {
    await loadModelManifest(dir);
  } catch (err) {
    throw new PreflightError(`model ${dir} cannot be used: ${strip((err as Error).message, dir)}`);
  }
  const onnxFile = join(dir, ONNX_FILE);
  let engine: InferenceEngine;
  try {
    engine = await InferenceEngine.load(dir, { provider, warmup: false, batchSize: 1, intraOpThreads: 1 });
  } catch (err) {
    throw new PreflightError(`model ${onnxFile} cannot be loaded: ${strip((err as Error).message, onnxFile)}; re-export it with tools/flair-export`);
  }
  try {
    if (engine.provider !== provider) warn(`FLEET_PROVIDER=${provider} is not available on this machine (the model loads on ${engine.provider}); workers without it fall back the same way`);
  } finally {
    await engine.close();
  }
}

/** The reason without the file name the message starts with (the line names it already). */
function strip(message: string, file: string): string {
  const first = message.split('\n').join('; ');
  return first.startsWith(`${file}: `) ? first.slice(file.length + 2) : first;
}
