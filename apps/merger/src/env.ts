import { lifecycleEnv, logEnv, parseEnv, redisEnv, s3Env } from '@fleet/config';
import { DEFAULT_RUN_TTL_DAYS } from '@fleet/jobs';
import { metricsEnv } from '@fleet/metrics';
import { z } from 'zod';

export const mergerEnvShape = {
  ...redisEnv,
  ...s3Env,
  ...logEnv,
  ...lifecycleEnv,
  ...metricsEnv,
  /** Blocks merged at once by this process. */
  FLEET_MERGE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Mask tiles fetched in parallel while merging a block. */
  FLEET_MERGE_FETCH: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * 1 keeps the intermediate mask tiles; by default (0) a tile is deleted as soon as every
   * block it feeds is merged, and the rest are swept when the run is finalised.
   */
  FLEET_KEEP_TILES: z.enum(['0', '1']).default('0').transform((v) => v === '1'),
  /** Days a finished run's state stays in Redis (0 = for ever); run.json stays the record. Default 7. */
  FLEET_RUN_TTL_DAYS: z.coerce.number().nonnegative().default(DEFAULT_RUN_TTL_DAYS),
  /**
   * Published runs kept whole in the output (each under runs/<runId>/): older ones are deleted
   * when a run is published, except blocks a kept run still uses (carried over). Default 7.
   */
  FLEET_KEEP_RUNS: z.coerce.number().int().min(1).default(7),
  /** BullMQ lock duration (ms) of merge jobs. */
  FLEET_MERGE_LOCK_MS: z.coerce.number().int().min(5_000).default(120_000),
  /**
   * How often BullMQ looks for merge jobs whose merger died (lock expired) and hands them
   * back: a SIGKILLed merger's block returns within about lock + 2 x this interval.
   */
  FLEET_MERGE_STALLED_MS: z.coerce.number().int().min(1_000).default(30_000),
};

export type MergerEnv = z.infer<z.ZodObject<typeof mergerEnvShape>>;

export function parseMergerEnv(env: NodeJS.ProcessEnv = process.env): MergerEnv {
  return parseEnv(mergerEnvShape, env);
}
