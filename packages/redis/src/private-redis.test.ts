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

describe('startPrivateRedis with a state folder', () => {
  it('keeps the data across servers and stops a server a killed owner left on the folder', async () => {
    const { existsSync, mkdtempSync, rmSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'private-redis-state-'));
    try {
      const first = await startPrivateRedis({ dir, appendOnly: true });
      const client = createRedisConnection(first.url);
      await client.set('kept', 'yes');
      client.disconnect();
      expect(readFileSync(join(dir, 'fleet-redis.pid'), 'utf8')).toBe(String(first.process.pid));
      // its owner "dies" without stopping it: the next server on the folder stops it first
      let firstGone = false;
      first.process.once('exit', () => (firstGone = true));
      const second = await startPrivateRedis({ dir, appendOnly: true });
      expect(firstGone).toBe(true);
      const again = createRedisConnection(second.url);
      try {
        expect(await again.get('kept')).toBe('yes');
      } finally {
        again.disconnect();
        await second.stop();
      }
      expect(existsSync(join(dir, 'fleet-redis.pid'))).toBe(false);
      expect(existsSync(dir)).toBe(true); // a given folder is kept
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
