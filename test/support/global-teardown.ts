import type { PrivateRedis } from '../../packages/redis/src/private-redis';

export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as Record<string, unknown>).__fleetTestRedis as PrivateRedis | undefined;
  await redis?.stop();
}
