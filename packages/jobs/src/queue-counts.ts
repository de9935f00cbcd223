import type IORedis from 'ioredis';
// types only (erased): loading the bullmq package itself costs ~0.2 s of CPU (BENCHMARKS.md, "CLI start")
import type * as BullMQ from 'bullmq';

/**
 * BullMQ's own key names (QueueKeys: `<prefix>:<queue>:<state>`, what KEDA's trigger in
 * infra/k8s/keda-scaledobject.yaml watches and test/deploy/deploy-files.test.ts checks), from
 * its one file that imports nothing: the package's index would load all of BullMQ, Queue and
 * Worker with it. bullmq has no `exports` map, so this path is reachable; queue-counts.test.ts
 * fails if a BullMQ upgrade moves it or changes what it names.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { QueueKeys } = require('bullmq/dist/cjs/classes/queue-keys') as Pick<typeof BullMQ, 'QueueKeys'>;

/** The states `fleet status` shows: wait (with prioritized and paused), active, delayed, failed. */
export const COUNTED_STATES = ['wait', 'active', 'delayed', 'failed', 'prioritized', 'paused'] as const;
export type CountedState = (typeof COUNTED_STATES)[number];

/**
 * What `queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized', 'paused')`
 * answers, read with plain commands on the queue's keys, so a caller needs ioredis only, not a
 * BullMQ Queue. It mirrors BullMQ 5's getCounts-1.lua (node_modules/bullmq/dist/cjs/commands/,
 * run by Queue.getJobCounts through Scripts.getCounts): LLEN for wait, paused and active, ZCARD
 * for every other state; and for wait and paused, a pre-v5 marker ("0:..." as the list's last
 * element) is not counted. One difference: that script also RPOPs the marker; this is a look,
 * it writes nothing. Read in one MULTI, so the counts are of one moment, as the script's are.
 */
export async function queueJobCounts(redis: IORedis, prefix: string, queue: string): Promise<Record<CountedState, number>> {
  const keys = new QueueKeys(prefix).getKeys(queue);
  const multi = redis.multi();
  for (const state of COUNTED_STATES) {
    const key = keys[state]!;
    if (state === 'wait' || state === 'paused') multi.llen(key).lindex(key, -1);
    else if (state === 'active') multi.llen(key);
    else multi.zcard(key);
  }
  const replies = await multi.exec();
  if (!replies) throw new Error(`queue ${queue}: the counts' transaction was aborted`);
  for (const [err] of replies) if (err) throw err;
  const values = replies.map(([, v]) => v);
  const counts = {} as Record<CountedState, number>;
  let i = 0;
  for (const state of COUNTED_STATES) {
    const length = Number(values[i++]);
    if (state === 'wait' || state === 'paused') {
      const last = values[i++];
      const marker = typeof last === 'string' && last.startsWith('0:');
      counts[state] = marker ? Math.max(0, length - 1) : length;
    } else {
      counts[state] = length;
    }
  }
  return counts;
}
