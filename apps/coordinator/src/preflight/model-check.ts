import { InferenceEngine, loadModelManifest, ONNX_FILE, ProviderUnavailableError, type ExecutionProvider } from '@fleet/model';
import { join, resolve } from 'node:path';
import { PreflightError } from './preflight-error';

/**
 * Loads the model once, exactly as a worker will (InferenceEngine: model.json, the wrapped
 * graph, the session on its thread, the logit count against the manifest), on the provider
 * workers are configured for, then releases it. A garbage model.onnx fails here, once, instead
 * of failing every window. A provider missing on this machine follows the workers' rule: the run
 * is refused (exit 2), as a worker without it refuses to start, unless `fallback` is `'cpu'`
 * (FLEET_PROVIDER_FALLBACK), when it is a warning: workers fall back the same way.
 */
export async function checkModel(modelDir: string, provider: ExecutionProvider, warn: (msg: string) => void, fallback?: 'cpu'): Promise<void> {
  const dir = resolve(modelDir);
  try {
    await loadModelManifest(dir);
  } catch (err) {
    throw new PreflightError(`model ${dir} cannot be used: ${strip((err as Error).message, dir)}`);
  }
  const onnxFile = join(dir, ONNX_FILE);
  let engine: InferenceEngine;
  try {
    engine = await InferenceEngine.load(dir, { provider, ...(fallback === undefined ? {} : { fallback }), warmup: false, batchSize: 1, intraOpThreads: 1 });
  } catch (err) {
    if (err instanceof ProviderUnavailableError) {
      throw new PreflightError(`FLEET_PROVIDER=${provider} cannot be loaded on this machine; set FLEET_PROVIDER_FALLBACK=cpu to let workers without it run on the CPU (${strip(err.message, onnxFile)})`);
    }
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
