import { parseEnv, redisEnv } from '@fleet/config';

/** FLEET_QUEUE_PREFIX, validated like the worker's and merger's (a bad value names the variable). */
export function queuePrefix(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnv(redisEnv, env).FLEET_QUEUE_PREFIX;
}
