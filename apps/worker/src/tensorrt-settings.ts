import { mkdirSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { WorkerStartError } from './worker-start-error';

/**
 * TensorRT's knobs for a worker: engine and timing caches on a path that outlives the pod, and
 * fp16. onnxruntime-node passes only `deviceId` to the TensorRT execution provider (its
 * TensorRtExecutionProviderOption has no other field), so the provider reads the rest from its
 * documented ORT_TENSORRT_* environment variables (onnxruntime docs, "TensorRT Execution
 * Provider", Environment Variables). They are set on this process before any session exists:
 * the inference thread's native code reads the process environment.
 *
 * Building an engine for the FLAIR U-Net takes minutes; with the caches a restarted pod loads
 * it in seconds. An engine is valid only for one model, onnxruntime version, TensorRT version,
 * precision and GPU model, so the cache folder is keyed by onnxruntime's version and the
 * precision, and the deployment mounts a per-node hostPath (same GPUs on a node pool).
 */
export interface TensorrtSettings {
  /** FLEET_TRT_CACHE_DIR: where engines and timing caches are kept. */
  cacheDir: string;
  /** FLEET_TRT_FP16: build fp16 engines (about twice as fast; argmax may differ on a few pixels). */
  fp16: boolean;
}

/** The ORT_TENSORRT_* variables for these settings (pure, so it is tested without a GPU). */
export function tensorrtEnvironment(settings: TensorrtSettings, ortVersion: string): Record<string, string> {
  const path = join(settings.cacheDir, `ort-${ortVersion}-${settings.fp16 ? 'fp16' : 'fp32'}`);
  return {
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
    ORT_TENSORRT_TIMING_CACHE_ENABLE: '1',
    ORT_TENSORRT_CACHE_PATH: path,
    ORT_TENSORRT_FP16_ENABLE: settings.fp16 ? '1' : '0',
  };
}

/**
 * Creates the cache folder and exports the variables into this process's environment. A folder
 * that cannot be written stops the worker at start (an engine rebuilt at every restart would
 * cost minutes of GPU each time, silently). Variables the operator set explicitly win.
 */
export function applyTensorrtSettings(settings: TensorrtSettings, ortVersion: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const vars = tensorrtEnvironment(settings, ortVersion);
  const dir = env.ORT_TENSORRT_CACHE_PATH ?? vars.ORT_TENSORRT_CACHE_PATH!;
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new WorkerStartError(`FLEET_TRT_CACHE_DIR: cannot write TensorRT engine cache ${dir}: ${(err as Error).message}`);
  }
  for (const [key, value] of Object.entries(vars)) env[key] ??= value;
  return Object.fromEntries(Object.keys(vars).map((k) => [k, env[k]!]));
}
