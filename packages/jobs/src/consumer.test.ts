import { createRedisConnection, startPrivateRedis } from '@fleet/redis';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { jobIds } from './job-catalogue';
import { QUEUES } from './queue-names';
import { FleetQueues } from './queues';
import { startConsumer, type ConsumerLog, type QueueHandlers } from './consumer';

function recordingLog() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const log: ConsumerLog = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
  return { log, lines };
}

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const permanent = (msg: string) => Object.assign(new Error(msg), { permanent: true });

describe('startConsumer', () => {
  it('refuses to start when a job name of the queue has no handler', () => {
    const connection = createRedisConnection(testRedisUrl());
    try {
      const handlers = { 'merge-block': async () => 1 } as unknown as QueueHandlers<typeof QUEUES.merge>;
      expect(() => startConsumer(QUEUES.merge, handlers, { connection, prefix: uniquePrefix('consumer'), log: recordingLog().log })).toThrow(
        'fleet-merge: no handler for job finalize-run',
      );
    } finally {
      connection.disconnect();
    }
  });

  it('runs the handler with the parsed payload; permanent errors and bad payloads fail on their first attempt, others retry', async () => {
    const prefix = uniquePrefix('consumer');
    const connection = createRedisConnection(testRedisUrl());
    const queues = new FleetQueues(connection, prefix);
    const seen: string[] = [];
    const attempts = new Map<string, number>();
    const consumer = startConsumer(
      QUEUES.merge,
      {
        'merge-block': async (payload, job) => {
          attempts.set(payload.blockId, job.attemptsMade + 1);
          if (payload.blockId === 'corrupt') throw permanent('tiles/r0-c0.bin: not a flair-fleet mask tile (bad magic)');
          if (payload.blockId === 'flaky') throw new Error('ECONNRESET');
          seen.push(payload.blockId);
          return payload.blockId;
        },
        'finalize-run': async (payload) => payload.runId,
      },
      { connection, prefix, log: recordingLog().log, concurrency: 2 },
    );
    try {
      await queues.add('merge-block', { runId: 'r', blockId: 'ok' }, jobIds.block('r', 'ok'));
      await queues.add('merge-block', { runId: 'r', blockId: 'corrupt' }, jobIds.block('r', 'corrupt'));
      await queues.merge.add('merge-block', { runId: 'r', blockId: 'flaky' }, { jobId: 'r.b.flaky', attempts: 2, backoff: { type: 'fixed', delay: 10 } });
      await queues.merge.add('merge-block', { runId: 'bad:id' }, { jobId: 'bad', attempts: 3 });
      await until(async () => (await queues.merge.getJobCountByTypes('failed')) === 3 && (await queues.merge.getJobCountByTypes('completed')) === 1, 'jobs to settle');

      expect(seen).toEqual(['ok']);
      const corrupt = await queues.merge.getJob(jobIds.block('r', 'corrupt'));
      expect(corrupt?.attemptsMade).toBe(1);
      expect(corrupt?.failedReason).toBe('tiles/r0-c0.bin: not a flair-fleet mask tile (bad magic)');
      expect(attempts.get('corrupt')).toBe(1);
      expect(attempts.get('flaky')).toBe(2);
      const bad = await queues.merge.getJob('bad');
      expect(bad?.attemptsMade).toBe(1);
      expect(bad?.failedReason).toMatch(/^invalid merge-block payload: runId: run id/);
    } finally {
      await consumer.close();
      await queues.merge.obliterate({ force: true });
      await queues.close();
      connection.disconnect();
    }
  }, 30_000);

  it('waits out a full Redis (maxmemory reached) without an error storm, and completes its jobs once memory frees', async () => {
    const redis = await startPrivateRedis();
    const admin = createRedisConnection(redis.url);
    const connection = createRedisConnection(redis.url);
    const queues = new FleetQueues(admin, 'oom');
    const { log, lines } = recordingLog();
    let consumer: ReturnType<typeof startConsumer> | undefined;
    try {
      for (let i = 0; i < 20; i++) await queues.add('merge-block', { runId: 'r', blockId: `b${i}` }, jobIds.block('r', `b${i}`));
      // a small maxmemory, then a filler key grown until Redis refuses writes that need memory
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      await admin.config('SET', 'maxmemory', String(used + 4 * 1024 * 1024));
      const chunk = Buffer.alloc(256 * 1024, 1);
      let full = false;
      for (let i = 0; i < 100 && !full; i++) {
        full = await admin.append('filler', chunk).then(() => false, (err: Error) => /OOM command not allowed/.test(err.message));
      }
      expect(full).toBe(true);

      const done: string[] = [];
      consumer = startConsumer(
        QUEUES.merge,
        {
          'merge-block': async (payload) => {
            done.push(payload.blockId);
            return payload.blockId;
          },
          'finalize-run': async () => undefined,
        },
        { connection, prefix: 'oom', log, concurrency: 4, oomBackoffMs: 100, oomMaxBackoffMs: 400 },
      );
      await until(async () => lines.filter((l) => l.level === 'warn').length >= 4, 'four backoff pauses');
      expect(done).toEqual([]);

      await admin.del('filler');
      await until(async () => (await queues.merge.getJobCountByTypes('completed')) === 20, 'the jobs to complete once memory frees');
      expect(done.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`).sort());

      // one line per pause, doubling up to the cap: a few lines, not thousands
      const warns = lines.filter((l) => l.level === 'warn');
      expect(warns.length).toBeLessThan(30);
      expect(warns[0]?.msg).toBe('Redis is out of memory (maxmemory reached): not taking jobs for a while');
      expect(warns.map((w) => (w.obj as { pauseMs: number }).pauseMs).slice(0, 4)).toEqual([100, 200, 400, 400]);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(lines.filter((l) => l.msg === 'Redis takes writes again: taking jobs')).toHaveLength(1);
    } finally {
      await consumer?.close();
      await queues.close();
      connection.disconnect();
      admin.disconnect();
      await redis.stop();
    }
  }, 60_000);
});
