import { createRedisConnection } from './connection';
import { findExecutable } from './find-executable';
import { REDIS_INSTALL_HINT, ensureRedisServer } from './ensure-redis-server';
import { startPrivateRedis } from './private-redis';

describe('startPrivateRedis', () => {
  it('starts a server on a free loopback port with noeviction and stops it', async () => {
    const redis = await startPrivateRedis();
    const client = createRedisConnection(redis.url);
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    } finally {
      client.disconnect();
      await redis.stop();
    }
    expect(redis.process.exitCode !== null || redis.process.signalCode !== null).toBe(true);
  });
});

describe('ensureRedisServer', () => {
  it('finds executables on PATH only', () => {
    expect(findExecutable('sh')).toMatch(/\/sh$/);
    expect(findExecutable('sh', '/nonexistent')).toBeUndefined();
  });

  it('fails with a one-line instruction when it cannot install', () => {
    const saved = process.env.PATH;
    const getuid = process.getuid;
    process.env.PATH = '/nonexistent';
    process.getuid = () => 1000;
    try {
      expect(() => ensureRedisServer()).toThrow(REDIS_INSTALL_HINT);
      expect(REDIS_INSTALL_HINT).not.toContain('\n');
    } finally {
      process.env.PATH = saved;
      process.getuid = getuid;
    }
  });
});
