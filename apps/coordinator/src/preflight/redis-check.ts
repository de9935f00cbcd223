import { probeRedis, RedisProbeError } from '@fleet/redis';
import { PreflightError } from './preflight-error';

/**
 * REDIS_URL answers within the timeout: an unreachable Redis exits 1 (it may pass on retry,
 * like `fleet status`), a refused one (wrong password, TLS) exits 2. The URL's password is
 * never in the message.
 */
export async function checkRedis(url: string, timeoutMs: number): Promise<void> {
  try {
    await probeRedis(url, timeoutMs);
  } catch (err) {
    if (err instanceof RedisProbeError) throw new PreflightError(`${err.message}; check REDIS_URL`, err.kind === 'refused' ? 2 : 1);
    throw err;
  }
}
