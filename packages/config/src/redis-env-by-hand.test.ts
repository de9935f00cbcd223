import { parseEnv, redisEnv } from './env-fragments';
import { DEFAULT_QUEUE_PREFIX, queuePrefixByHand } from './redis-env-by-hand';

/** The prefix redisEnv's schema gives, or its error message. */
function bySchema(env: NodeJS.ProcessEnv): string {
  try {
    return parseEnv(redisEnv, env).FLEET_QUEUE_PREFIX;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe('queuePrefixByHand (FLEET_QUEUE_PREFIX without zod)', () => {
  const urls = [undefined, 'redis://127.0.0.1:6379', 'rediss://u:p@cache.example:6380/2', ' redis://h:1 ', 'redis://', 'redis:x', 'redis://[::1]:6379',
    'http://h:6379', 'h:6379', '', 'redis://h:99999', 'redis://exa mple', 'redis\n://h'];
  const prefixes = [undefined, 'fleet', 't-status-1a2b', 'A_b-9', '', 'a:b', 'a b', 'é', 'fleet\n'];

  it('accepts only what the schema accepts, with the same prefix (the rest goes to the schema for its message)', () => {
    let accepted = 0;
    for (const REDIS_URL of urls) {
      for (const FLEET_QUEUE_PREFIX of prefixes) {
        const env = { ...(REDIS_URL !== undefined ? { REDIS_URL } : {}), ...(FLEET_QUEUE_PREFIX !== undefined ? { FLEET_QUEUE_PREFIX } : {}) };
        const hand = queuePrefixByHand(env);
        if (hand === undefined) {
          expect([env, bySchema(env)]).toEqual([env, expect.stringMatching(/^error: invalid environment: /)]);
        } else {
          accepted++;
          expect([env, hand]).toEqual([env, bySchema(env)]);
        }
      }
    }
    // the fast path is the usual one: a redis:// URL and a plain prefix, or none
    expect(accepted).toBeGreaterThanOrEqual(15);
  });

  it('defaults like the schema and refuses a prefix with a colon', () => {
    expect(queuePrefixByHand({})).toBe(DEFAULT_QUEUE_PREFIX);
    expect(bySchema({})).toBe(DEFAULT_QUEUE_PREFIX);
    expect(queuePrefixByHand({ REDIS_URL: 'redis://h:1', FLEET_QUEUE_PREFIX: 'a:b' })).toBeUndefined();
    expect(queuePrefixByHand({ REDIS_URL: 'http://h:1' })).toBeUndefined();
  });
});
