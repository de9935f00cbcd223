import type IORedis from 'ioredis';
import { runKeys } from './run-keys';

/**
 * A run that cannot finish: a merge or the finalisation failed for good (its last attempt, or
 * a permanent error). Kept apart from RunState's counters (a hash of its own beside the run's
 * keys) so `fleet run` and `fleet status` can say why instead of waiting for a "done" that
 * never comes. Fields: "block <id>" or "finalize" -> the error message.
 */
export const runFailuresKey = (prefix: string, runId: string) => runKeys(prefix, runId).fatal;

/** Records that `what` (e.g. "block D-1-0", "finalize") failed for good with `message`. */
export async function markRunFailed(redis: IORedis, prefix: string, runId: string, what: string, message: string): Promise<void> {
  await redis.hset(runFailuresKey(prefix, runId), what, message);
}

/** What failed for good in this run, by what failed; empty when nothing did. */
export async function runFatalFailures(redis: IORedis, prefix: string, runId: string): Promise<Record<string, string>> {
  return redis.hgetall(runFailuresKey(prefix, runId));
}

/** Forgets the run's permanent failures (a new attempt at the run after a fix). */
export async function clearRunFailures(redis: IORedis, prefix: string, runId: string): Promise<void> {
  await redis.del(runFailuresKey(prefix, runId));
}
