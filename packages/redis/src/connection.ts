import IORedis, { type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on
 * commands and must keep retrying through a Redis restart rather than fail them); the same
 * setting is harmless for queues. rediss:// URLs get TLS from ioredis.
 */
export function createRedisConnection(url: string, extra: RedisOptions = {}): IORedis {
  return new IORedis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // reconnect for ever with a capped backoff: a restarted Redis must be picked up again
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    ...extra,
  });
}
