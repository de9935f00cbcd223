/**
 * The queue prefix's rule and the Redis variables checked without zod, for `fleet status`, which
 * must start without loading it (BENCHMARKS.md, "CLI start"): `@fleet/config/redis-env-by-hand`.
 * redisEnv (env-fragments.ts) builds its schema from the same constants, and
 * redis-env-by-hand.test.ts checks that whatever this accepts, that schema accepts alike.
 */

/** BullMQ key prefix when FLEET_QUEUE_PREFIX is unset. */
export const DEFAULT_QUEUE_PREFIX = 'fleet';
/** What FLEET_QUEUE_PREFIX may hold (it is part of every Redis key). */
export const QUEUE_PREFIX_PATTERN = /^[A-Za-z0-9_-]+$/;
export const QUEUE_PREFIX_RULE = 'letters, digits, _ and - only';
/** REDIS_URL must start with this (redis:// or rediss://). */
export const REDIS_URL_START = 'redis';
export const REDIS_URL_RULE = 'must be a redis:// or rediss:// URL';

/**
 * FLEET_QUEUE_PREFIX (or its default) when REDIS_URL and FLEET_QUEUE_PREFIX are valid by the
 * rules above; undefined when either is not, and the caller then parses with redisEnv to get
 * zod's one-line message (the rare path may load zod). The URL test is zod 4's for
 * `z.string().url()`: URL.canParse of the trimmed text.
 */
export function queuePrefixByHand(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.REDIS_URL;
  if (url !== undefined && !(URL.canParse(url.trim()) && url.trim().startsWith(REDIS_URL_START))) return undefined;
  const prefix = env.FLEET_QUEUE_PREFIX;
  if (prefix === undefined) return DEFAULT_QUEUE_PREFIX;
  return QUEUE_PREFIX_PATTERN.test(prefix) ? prefix : undefined;
}
