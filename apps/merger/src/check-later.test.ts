import { FleetQueues, jobIds } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { DelayedError } from 'bullmq';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { checkLater } from './check-later';

describe('checkLater', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('leaves a job Redis no longer has, or that is not this process\'s to move, alone (DelayedError, nothing recorded); other errors go on', async () => {
    const queues = new FleetQueues(redis, uniquePrefix('check-later'));
    try {
      const id = jobIds.block('run-c', 'b1');
      // in the wait list, not held by this process: BullMQ refuses to move it
      await queues.add('merge-block', { runId: 'run-c', blockId: 'b1' }, id);
      const waiting = (await queues.merge.getJob(id))!;
      await expect(checkLater(waiting, 1_000)).rejects.toBeInstanceOf(DelayedError);
      expect(await queues.merge.getJobState(id)).toBe('waiting');
      // gone from Redis (lost with its last second of writes)
      await queues.merge.remove(id);
      await expect(checkLater(waiting, 1_000)).rejects.toBeInstanceOf(DelayedError);
      expect(await queues.merge.getJob(id)).toBeUndefined();
      // anything else is a real failure
      await expect(checkLater({ attemptsMade: 0, opts: {}, moveToDelayed: () => Promise.reject(new Error('Connection is closed.')) })).rejects.toThrow('Connection is closed.');
      await expect(checkLater({ attemptsMade: 0, opts: {} })).rejects.toThrow(/cannot be delayed/);
    } finally {
      await queues.merge.obliterate({ force: true });
      await queues.close();
    }
  });
});
