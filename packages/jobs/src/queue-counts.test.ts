import { createRedisConnection } from '@fleet/redis';
import { Queue, QueueKeys, Worker } from 'bullmq';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { COUNTED_STATES, queueJobCounts } from './queue-counts';
import { QUEUES } from './queue-names';

/**
 * queueJobCounts reads BullMQ's keys with plain commands: checked here against a real BullMQ
 * Queue's getJobCounts on the same queue, on a real redis-server, with jobs in every state it
 * counts (a wrong key name or a LLEN where BullMQ uses ZCARD makes a count differ, or errors).
 */
describe('queueJobCounts (BullMQ counts without a Queue)', () => {
  const redis = createRedisConnection(testRedisUrl());
  const closers: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    redis.disconnect();
  });

  const bullCounts = (queue: Queue) => queue.getJobCounts(...COUNTED_STATES);

  it("takes the key names from BullMQ's own QueueKeys (the class the package exports, what KEDA's trigger is checked against)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(require('bullmq/dist/cjs/classes/queue-keys').QueueKeys).toBe(QueueKeys);
    const prefix = uniquePrefix('qc-keys');
    expect(new QueueKeys(prefix).getKeys(QUEUES.infer)).toMatchObject({ wait: `${prefix}:${QUEUES.infer}:wait`, paused: `${prefix}:${QUEUES.infer}:paused` });
  });

  it('agrees with Queue.getJobCounts with jobs waiting, prioritized, delayed, active, failed and paused', async () => {
    const prefix = uniquePrefix('qc');
    const name = QUEUES.infer;
    const queue = new Queue(name, { connection: redis, prefix });
    closers.push(() => queue.close());
    const counts = () => queueJobCounts(redis, prefix, name);

    // an empty queue (no key exists yet)
    expect(await counts()).toEqual({ wait: 0, active: 0, delayed: 0, failed: 0, prioritized: 0, paused: 0 });
    expect(await counts()).toEqual(await bullCounts(queue));

    await queue.addBulk([1, 2, 3, 4, 5].map((i) => ({ name: 'w', data: { i }, opts: { jobId: `w-${i}` } })));
    await queue.add('p', {}, { jobId: 'p-1', priority: 3 });
    await queue.add('p', {}, { jobId: 'p-2', priority: 1 });
    await queue.add('d', {}, { jobId: 'd-1', delay: 3_600_000 });
    expect(await counts()).toEqual({ wait: 5, active: 0, delayed: 1, failed: 0, prioritized: 2, paused: 0 });
    expect(await counts()).toEqual(await bullCounts(queue));

    // a worker without a processor takes jobs by hand: two active, one of them then failed
    const worker = new Worker(name, null, { connection: redis, prefix });
    closers.push(() => worker.close());
    const first = await worker.getNextJob('token-1', { block: false });
    const second = await worker.getNextJob('token-2', { block: false });
    expect(first && second).toBeTruthy();
    await first!.moveToFailed(new Error('broken'), 'token-1', false);
    const taken = await counts();
    expect(taken).toEqual(await bullCounts(queue));
    expect([taken.active, taken.failed, taken.wait + taken.prioritized]).toEqual([1, 1, 5]);

    // paused: waiting jobs move to the paused list, and new ones go there too
    await queue.pause();
    await queue.add('w', {}, { jobId: 'w-6' });
    const paused = await counts();
    expect(paused).toEqual(await bullCounts(queue));
    expect(paused.paused + paused.wait + paused.prioritized).toBe(6);
    // BullMQ 5 keeps a paused queue's jobs in its `paused` list: that count is exercised here
    expect(paused.paused).toBeGreaterThan(0);
    await queue.resume();
    expect(await counts()).toEqual(await bullCounts(queue));
  });

  it('does not count a pre-v5 marker at the end of the wait list, as BullMQ does not', async () => {
    const prefix = uniquePrefix('qc-marker');
    const name = QUEUES.merge;
    const queue = new Queue(name, { connection: redis, prefix });
    closers.push(() => queue.close());
    await queue.add('m', {}, { jobId: 'm-1' });
    await queue.add('m', {}, { jobId: 'm-2' });
    const wait = new QueueKeys(prefix).getKeys(name).wait!;
    // LPUSH adds at the head; BullMQ 4 left its marker at the tail, where getCounts-1.lua looks
    await redis.rpush(wait, '0:1700000000000');
    const ours = await queueJobCounts(redis, prefix, name);
    // (getJobCounts pops the marker as it counts: read ours first, then BullMQ's)
    expect(ours).toEqual(await bullCounts(queue));
    expect(ours.wait).toBe(2);
    // a marker alone is no job
    const alone = uniquePrefix('qc-alone');
    const aloneQueue = new Queue(name, { connection: redis, prefix: alone });
    closers.push(() => aloneQueue.close());
    await redis.rpush(new QueueKeys(alone).getKeys(name).wait!, '0:1');
    const aloneCounts = await queueJobCounts(redis, alone, name);
    expect(aloneCounts.wait).toBe(0);
    expect(aloneCounts).toEqual(await bullCounts(aloneQueue));
  });

  it('fails with Redis\'s error when a key is not what BullMQ keeps there', async () => {
    const prefix = uniquePrefix('qc-wrong');
    await redis.set(new QueueKeys(prefix).getKeys(QUEUES.infer).delayed!, 'not a sorted set');
    await expect(queueJobCounts(redis, prefix, QUEUES.infer)).rejects.toThrow(/WRONGTYPE/);
  });
});
