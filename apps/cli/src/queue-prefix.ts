import { queuePrefixByHand } from '@fleet/config/redis-env-by-hand';

/**
 * FLEET_QUEUE_PREFIX, validated like the worker's and merger's (a bad value names the variable).
 * A valid environment is checked by hand, without loading zod (`fleet status` starts fast:
 * BENCHMARKS.md, "CLI start"); an invalid one is parsed with the shared schema, loaded only
 * then, so the message is the one every component gives.
 */
export function queuePrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = queuePrefixByHand(env);
  if (prefix !== undefined) return prefix;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parseEnv, redisEnv } = require('@fleet/config') as typeof import('@fleet/config');
  return parseEnv(redisEnv, env).FLEET_QUEUE_PREFIX;
}
