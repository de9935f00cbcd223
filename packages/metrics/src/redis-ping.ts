/** What a liveness check needs of a Redis connection (an ioredis client). */
export interface Pingable {
  ping(): Promise<string>;
}

/**
 * Why Redis is not reachable, or undefined when it answered PING within `timeoutMs`. The
 * process's own connection is used: a BullMQ connection queues commands while it reconnects
 * (maxRetriesPerRequest null), so the timeout is what turns "gone" into an answer.
 */
export async function redisProblem(redis: Pingable, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`redis: no PING answer within ${timeoutMs} ms`), timeoutMs);
  });
  const ping = redis.ping().then(
    (answer) => (answer === 'PONG' ? undefined : `redis: PING answered ${JSON.stringify(answer)}`),
    (err: unknown) => `redis: PING failed: ${String((err as { message?: unknown } | undefined)?.message ?? err)}`,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
