import { randomBytes } from 'node:crypto';

/** URL of the jest run's private redis-server (started by global-setup.ts). */
export function testRedisUrl(): string {
  const url = process.env.FLEET_TEST_REDIS_URL;
  if (!url) throw new Error('FLEET_TEST_REDIS_URL is unset: run tests through jest (global-setup starts redis-server)');
  return url;
}

/** A queue/key prefix of this test's own, so tests sharing the server never see each other's jobs. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}`;
}
