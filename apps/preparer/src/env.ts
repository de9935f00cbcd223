import { lifecycleEnv, logEnv, parseEnv, redisEnv, s3Env } from '@fleet/config';
import { availableParallelism } from 'node:os';
import { metricsEnv } from '@fleet/metrics';
import { z } from 'zod';

/** The preparer's configuration, parsed once at start; a bad value names the variable. */
export const preparerEnvShape = {
  ...redisEnv,
  ...s3Env,
  ...logEnv,
  ...lifecycleEnv,
  ...metricsEnv,
  /** Dalles converted at once by one process. Default 1: gdal_translate already uses FLEET_GDAL_THREADS. */
  FLEET_PREPARE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Threads per gdal_translate (JPEG 2000 decoding and DEFLATE compression). Default: one per core. */
  FLEET_GDAL_THREADS: z.coerce.number().int().min(1).max(1024).default(availableParallelism()),
  /** Folder for downloaded sources and COGs being written. Default: the system temp folder. */
  FLEET_TMPDIR: z.string().min(1).optional(),
  /** BullMQ lock duration (ms); renewed at half this while gdal_translate runs. */
  FLEET_LOCK_MS: z.coerce.number().int().min(5_000).default(60_000),
  /** How often BullMQ looks for jobs whose preparer died and hands them back. */
  FLEET_STALLED_MS: z.coerce.number().int().min(1_000).default(30_000),
};

export type PreparerEnv = z.infer<z.ZodObject<typeof preparerEnvShape>>;

export function parsePreparerEnv(env: NodeJS.ProcessEnv = process.env): PreparerEnv {
  return parseEnv(preparerEnvShape, env);
}
