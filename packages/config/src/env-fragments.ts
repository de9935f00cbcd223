import { z } from 'zod';
import { DEFAULT_QUEUE_PREFIX, QUEUE_PREFIX_PATTERN, QUEUE_PREFIX_RULE, REDIS_URL_RULE, REDIS_URL_START } from './redis-env-by-hand';

/**
 * Pieces of environment schema shared by the apps' env.ts files, so each variable is
 * spelled and validated once.
 */
export const redisEnv = {
  /** Redis to use; unset = a private redis-server started for this process tree (CLI only). */
  REDIS_URL: z.string().url().startsWith(REDIS_URL_START, REDIS_URL_RULE).optional(),
  /** BullMQ key prefix, so several fleets or test suites share one Redis. */
  FLEET_QUEUE_PREFIX: z.string().regex(QUEUE_PREFIX_PATTERN, QUEUE_PREFIX_RULE).default(DEFAULT_QUEUE_PREFIX),
};

export const s3Env = {
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  /** Attempts per S3 request, first included (the SDK's retry strategy; storage default 8). */
  S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).optional(),
  /** The SDK's retry mode: standard (backoff with full jitter) or adaptive (plus client-side rate limiting). */
  S3_RETRY_MODE: z.enum(['standard', 'adaptive']).optional(),
  /** Milliseconds to open a connection before the attempt is retried (storage default 10000). */
  S3_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(1).optional(),
  /** Milliseconds a connection may stay silent mid-request before the attempt is retried (storage default 60000). */
  S3_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(1).optional(),
};

export const logEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Write JSON logs to this file instead of stderr. */
  LOG_FILE: z.string().min(1).optional(),
};

/** Long-running processes (worker, merger). */
export const lifecycleEnv = {
  /** Longest graceful shutdown after SIGTERM before the process exits anyway (its jobs then stall and are retried). */
  FLEET_SHUTDOWN_MS: z.coerce.number().int().min(1_000).default(60_000),
};

/** Parses `env` with `schema`; a bad value fails with one line naming each variable. */
export function parseEnv<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
