import type IORedis from 'ioredis';
import { z } from 'zod';
import { runKeys, runsIndexKey } from './run-keys';
import { RunState } from './run-state';

/**
 * Days a finished run's state stays in Redis (FLEET_RUN_TTL_DAYS). Redis runs `noeviction`
 * (BullMQ needs it), so state that never expires would fill it: a département's run holds
 * ~1 MB of bitmaps and hashes, and `fleet runs` would list every run ever made. A week leaves
 * time for `fleet status` and `fleet retry`; run.json in the output store stays the record.
 */
export const DEFAULT_RUN_TTL_DAYS = 7;

/** FLEET_RUN_TTL_DAYS as seconds (0 = keep for ever); a bad value names the variable. */
export function runTtlSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = z.coerce.number().nonnegative().default(DEFAULT_RUN_TTL_DAYS).safeParse(env.FLEET_RUN_TTL_DAYS || undefined);
  if (!parsed.success) throw new Error(`FLEET_RUN_TTL_DAYS: expected a number of days >= 0, got ${JSON.stringify(env.FLEET_RUN_TTL_DAYS)}`);
  return Math.round(parsed.data * 86_400);
}

/** Sets a TTL on every key of a finished run (0 = none: the keys stay). */
export async function expireRun(redis: IORedis, prefix: string, runId: string, ttlSeconds: number): Promise<void> {
  if (ttlSeconds <= 0) return;
  const multi = redis.multi();
  for (const key of Object.values(runKeys(prefix, runId))) multi.expire(key, ttlSeconds);
  await multi.exec();
}

/** Removes the TTL of every key of a run (a `fleet retry` runs it again). */
export async function persistRun(redis: IORedis, prefix: string, runId: string): Promise<void> {
  const multi = redis.multi();
  for (const key of Object.values(runKeys(prefix, runId))) multi.persist(key);
  await multi.exec();
}

export interface RunListing {
  runId: string;
  createdAt: string;
  status: string;
  windows: number;
  /** Windows finished, whatever their outcome (done + skipped + failed). */
  finished: number;
  failed: number;
  blocks: number;
  blocksMerged: number;
  /** Seconds until the run's state expires; undefined while it has no TTL (not finished). */
  expiresInS?: number;
}

/**
 * The runs in this Redis, oldest first. Runs whose state has expired leave the runs index
 * here (the index itself has no TTL: it holds every run). Reads a set (as INIT_RUN writes it)
 * or a sorted set.
 */
export async function listRuns(redis: IORedis, prefix: string): Promise<{ runs: RunListing[]; pruned: string[] }> {
  const indexKey = runsIndexKey(prefix);
  const type = await redis.type(indexKey);
  const ids = type === 'zset' ? await redis.zrange(indexKey, 0, -1) : type === 'set' ? await redis.smembers(indexKey) : [];
  const runs: RunListing[] = [];
  const pruned: string[] = [];
  for (const runId of ids) {
    const state = new RunState(redis, prefix, runId);
    const [progress, spec, ttl] = await Promise.all([state.progress(), state.spec().catch(() => undefined), redis.ttl(runKeys(prefix, runId).spec)]);
    if (!progress) {
      pruned.push(runId);
      continue;
    }
    runs.push({
      runId,
      createdAt: spec?.createdAt ?? '',
      status: progress.status,
      windows: progress.windows,
      finished: progress.done + progress.skipped + progress.failed,
      failed: progress.failed,
      blocks: progress.blocks,
      blocksMerged: progress.blocksMerged,
      ...(ttl >= 0 ? { expiresInS: ttl } : {}),
    });
  }
  if (pruned.length) await (type === 'zset' ? redis.zrem(indexKey, ...pruned) : redis.srem(indexKey, ...pruned));
  runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  return { runs, pruned };
}
