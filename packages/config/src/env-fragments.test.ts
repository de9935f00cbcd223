import { z } from 'zod';
import { parseEnv, redisEnv } from './env-fragments';

describe('parseEnv', () => {
  it('applies defaults and validates', () => {
    expect(parseEnv(redisEnv, {})).toEqual({ FLEET_QUEUE_PREFIX: 'fleet' });
    expect(parseEnv(redisEnv, { REDIS_URL: 'rediss://h:6380' }).REDIS_URL).toBe('rediss://h:6380');
  });

  it('names the variable in the error', () => {
    expect(() => parseEnv(redisEnv, { REDIS_URL: 'http://x' })).toThrow(/^invalid environment: REDIS_URL: must be a redis/);
    expect(() => parseEnv({ N: z.coerce.number().int().positive() }, { N: '-1' })).toThrow(/N: /);
  });
});
