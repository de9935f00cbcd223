import { startPrivateRedis } from '../../packages/redis/src/private-redis';

/**
 * One private redis-server on a random loopback port for the whole jest run; every test
 * isolates itself with its own queue prefix (see test/support/redis.ts). Never the
 * machine's own Redis: a clean CI machine has none, and tests must not touch it.
 */
export default async function globalSetup(): Promise<void> {
  const redis = await startPrivateRedis();
  process.env.FLEET_TEST_REDIS_URL = redis.url;
  (globalThis as Record<string, unknown>).__fleetTestRedis = redis;
}
