import { lifecycleEnv, logEnv, parseEnv, redisEnv, s3Env } from '@fleet/config';
import { metricsEnv } from '@fleet/metrics';
import { z } from 'zod';

/** The worker's configuration, parsed once at start; a bad value names the variable. */
export const workerEnvShape = {
  ...redisEnv,
  ...s3Env,
  ...logEnv,
  ...lifecycleEnv,
  ...metricsEnv,
  /**
   * Execution provider: cpu (default), cuda or tensorrt. A provider that cannot be loaded fails
   * the worker at start (when FLEET_MODEL is set) or the runs that need it, unless
   * FLEET_PROVIDER_FALLBACK allows the CPU.
   */
  FLEET_PROVIDER: z.enum(['cpu', 'cuda', 'tensorrt']).default('cpu'),
  /**
   * Fallback when FLEET_PROVIDER cannot be loaded: `cpu` (tensorrt -> cuda -> cpu, with a
   * warning). Default: none, so a GPU worker never runs silently on the CPU.
   */
  FLEET_PROVIDER_FALLBACK: z.enum(['cpu']).optional(),
  /**
   * Model folder (model.json + model.onnx) loaded and warmed at start, before the worker takes
   * any job (top-k 2, the runs' default); the worker fails at start if it cannot. Runs naming
   * another model still load it on first use. Default: none, every model loads on first use.
   */
  FLEET_MODEL: z.string().min(1).optional(),
  /**
   * FLEET_PROVIDER=tensorrt only: folder of TensorRT engine and timing caches. Mount one that
   * survives pod restarts (a per-node hostPath): building the engine takes minutes.
   */
  FLEET_TRT_CACHE_DIR: z.string().min(1).default('/var/cache/flair-fleet/tensorrt'),
  /** FLEET_PROVIDER=tensorrt only: build fp16 engines (`true`/`false`). */
  FLEET_TRT_FP16: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Windows per session.run. */
  FLEET_BATCH_SIZE: z.coerce.number().int().min(1).max(256).default(4),
  /** onnxruntime intra-op threads; 0 = its default (one per core). */
  FLEET_THREADS: z.coerce.number().int().min(0).max(1024).default(0),
  /**
   * Run one zero batch when a model is loaded, so the first real batch does not pay for memory
   * allocation and kernel tuning (minutes with TensorRT). Default true.
   */
  FLEET_WARMUP: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /**
   * Budget of the decoded source-tile cache (MiB, per process): neighbouring windows overlap
   * and share source tiles, which are then fetched and inflated once. 0 turns it off.
   */
  FLEET_TILE_CACHE_MB: z.coerce.number().int().min(0).max(65_536).default(256),
  /**
   * Group jobs held at once. Default: set from the run's group size so that their windows fill
   * the 2 x batch windows in flight (2 x batch for one-window groups, 2 for 64-window groups).
   */
  FLEET_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  /** BullMQ lock duration (ms): longer than the slowest batch; renewed at half this. */
  FLEET_LOCK_MS: z.coerce.number().int().min(5_000).default(60_000),
  /**
   * How often BullMQ looks for jobs whose worker died (lock expired) and hands them back.
   * A SIGKILLed worker's windows return within about lock + 2 x this interval.
   */
  FLEET_STALLED_MS: z.coerce.number().int().min(1_000).default(30_000),
};

export type WorkerEnv = z.infer<z.ZodObject<typeof workerEnvShape>>;

export function parseWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return parseEnv(workerEnvShape, env);
}
