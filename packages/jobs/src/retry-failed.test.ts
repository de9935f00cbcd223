import { regularBlocks } from '@fleet/grid';
import { createRedisConnection } from '@fleet/redis';
import { UnrecoverableError, Worker } from 'bullmq';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { jobIds } from './job-catalogue';
import { QUEUES } from './queue-names';
import { FleetQueues } from './queues';
import { requeueFailed, retryFailedWindows, retryInProgress } from './retry-failed';
import { runKeys } from './run-keys';
import { windowPlanOf, type RunSpec } from './run-spec';
import { RunState } from './run-state';

// 317 x 317 windows of 512 px with 128 px overlap (step 384): 100,489 windows
const SIDE = 384 * 316 + 512;
const bigSpec = (runId: string) => syntheticRunSpec({ runId, width: SIDE, height: SIDE, blocks: regularBlocks(SIDE, SIDE, 10_000), windowCount: 317 * 317 });

/**
 * A finished run whose first `failed` windows failed and the rest are done, written straight
 * into Redis (what 10^5 COMPLETE_WINDOW calls and the merges would leave): no inference.
 */
async function finishedRunWithFailures(redis: ReturnType<typeof createRedisConnection>, prefix: string, spec: RunSpec, failed: number) {
  const state = new RunState(redis, prefix, spec.runId);
  const k = runKeys(prefix, spec.runId);
  await state.init(spec, new Map(spec.blocks.map((b) => [b.id, 0])));
  const total = spec.windowCount;
  const bytes = Math.ceil(total / 8);
  const done = Buffer.alloc(bytes);
  const failedBits = Buffer.alloc(bytes);
  for (let i = 0; i < total; i++) {
    done[i >> 3]! |= 0x80 >> (i & 7);
    if (i < failed) failedBits[i >> 3]! |= 0x80 >> (i & 7);
  }
  const cols = windowPlanOf(spec).colStarts.length;
  for (let i = 0; i < failed; i += 5_000) {
    const fields: Record<string, string> = {};
    for (let j = i; j < Math.min(failed, i + 5_000); j++) fields[`r${Math.floor(j / cols)}-c${j % cols}`] = 'a.tif: truncated';
    await redis.hset(k.failures, fields);
  }
  await redis
    .multi()
    .set(k.windowsDone, done)
    .set(k.windowsFailed, failedBits)
    .hset(k.stats, { windows_done: total - failed, windows_failed: failed })
    .sadd(k.blocksMerged, ...spec.blocks.map((b) => b.id))
    .hset(k.blockResults, Object.fromEntries(spec.blocks.map((b) => [b.id, '{}'])))
    .set(k.blocksRemaining, 0)
    .set(k.status, 'done')
    .exec();
  return state;
}

describe('retryFailedWindows', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());

  it('retries 100,000 failed windows: every one pending again and queued exactly once, blocks un-merged', async () => {
    const prefix = uniquePrefix('retry-big');
    const spec = bigSpec('big');
    const queues = new FleetQueues(redis, prefix);
    try {
      const state = await finishedRunWithFailures(redis, prefix, spec, 100_000);
      // some windows still have their failed job from the run: BullMQ ignores an add under an
      // id it holds, so the retry must remove them first
      const old = (await state.failedWindows()).slice(0, 300);
      await requeueFailed(queues, spec, old);
      const worker = new Worker(QUEUES.infer, async () => { throw new UnrecoverableError('corrupt'); }, { connection: createRedisConnection(testRedisUrl()), prefix, concurrency: 50 });
      while ((await queues.infer.getJobCountByTypes('failed')) < 300) await new Promise((r) => setTimeout(r, 50));
      await worker.close();
      await worker.disconnect();
      // a finished run carries a TTL: the retry must take it off
      await redis.expire(runKeys(prefix, 'big').spec, 3600);

      const outcome = await retryFailedWindows(redis, queues, 'big');
      expect(outcome.reset).toBe(100_000);
      expect(outcome.requeued).toBe(100_000);
      expect(outcome.blocks.length).toBeGreaterThan(100);

      const k = runKeys(prefix, 'big');
      expect(await redis.bitcount(k.windowsFailed)).toBe(0);
      expect(await redis.bitcount(k.windowsDone)).toBe(spec.windowCount - 100_000);
      expect(await redis.hlen(k.failures)).toBe(0);
      expect(await redis.exists(k.retrying)).toBe(0);
      expect(await redis.ttl(k.spec)).toBe(-1);
      expect(await state.progress()).toMatchObject({ status: 'running', failed: 0, blocksMerged: spec.blocks.length - outcome.blocks.length });

      const waiting = await redis.lrange(`${prefix}:${QUEUES.infer}:wait`, 0, -1);
      expect(waiting).toHaveLength(100_000);
      const cols = windowPlanOf(spec).colStarts.length;
      const expected = new Set(Array.from({ length: 100_000 }, (_, i) => jobIds.group('big', { row: Math.floor(i / cols), col: i % cols })));
      expect(new Set(waiting)).toEqual(expected);
      expect(await queues.infer.getJobCountByTypes('failed')).toBe(0);
      const first = await queues.infer.getJob(jobIds.group('big', { row: 0, col: 0 }));
      expect(first?.data).toEqual({ runId: 'big', group: { row: 0, col: 0 } });
      expect(first?.attemptsMade).toBe(0);

      // a second retry finds nothing to do and queues nothing twice
      expect(await retryFailedWindows(redis, queues, 'big')).toEqual({ reset: 0, requeued: 0, jobs: 0, blocks: [] });
      expect(await redis.llen(`${prefix}:${QUEUES.infer}:wait`)).toBe(100_000);
    } finally {
      await queues.infer.obliterate({ force: true });
      await queues.close();
    }
  }, 180_000);

  it('a retry stopped after resetting, before enqueueing, is finished by the next one', async () => {
    const prefix = uniquePrefix('retry-resume');
    const spec = { ...bigSpec('resume'), mosaic: { ...bigSpec('resume').mosaic, width: 384 * 9 + 512, height: 384 * 9 + 512 }, blocks: regularBlocks(384 * 9 + 512, 384 * 9 + 512, 1_000), windowCount: 100 };
    const queues = new FleetQueues(redis, prefix);
    try {
      const state = await finishedRunWithFailures(redis, prefix, spec, 40);
      const k = runKeys(prefix, 'resume');
      // what an interrupted retry leaves: 25 of the 40 failed windows reset (so no longer
      // failed, nor listed), nothing enqueued
      const failed = await state.failedWindows();
      await state.resetFailed(failed.slice(0, 25));
      expect(await state.failedWindows()).toHaveLength(15);
      expect((await state.progress())?.status).toBe('running');
      expect(await retryInProgress(redis, prefix, 'resume')).toBe(true);

      const outcome = await retryFailedWindows(redis, queues, 'resume', { chunk: 7 });
      expect(outcome).toMatchObject({ reset: 15, requeued: 40 });
      expect(await retryInProgress(redis, prefix, 'resume')).toBe(false);
      const waiting = await redis.lrange(`${prefix}:${QUEUES.infer}:wait`, 0, -1);
      expect(new Set(waiting)).toEqual(new Set(failed.map((f) => jobIds.group('resume', f.group))));
      expect(waiting).toHaveLength(40);
      // every block a retried window feeds must merge again
      const merged = await state.mergedBlocks();
      for (const f of failed) for (const b of f.blocks) expect(merged.has(b)).toBe(false);
    } finally {
      await queues.infer.obliterate({ force: true });
      await queues.close();
    }
  }, 60_000);
});
