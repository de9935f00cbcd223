import { BlockIndex, iterateWindows } from '@fleet/grid';
import { FleetQueues, jobIds, outputKeys, RunState, runKeys, windowPlanOf } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection, freePort } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { encodeMaskTile } from '@fleet/tiles';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticMaskTile } from '../../../test/support/mask-tile-fixture';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { syntheticRunSpec, SYNTHETIC_MODEL } from '../../../test/support/run-spec-fixture';
import { parseMergerEnv } from './env';
import { startMerger } from './start-merger';

const WIDTH = 900;
const HEIGHT = 600;

/** A run whose windows are all done, their tiles in a local store; `corrupt` gets garbage bytes. */
async function finishedWindows(redis: ReturnType<typeof createRedisConnection>, prefix: string, corrupt?: string) {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-start-merger-'));
  const spec = syntheticRunSpec({
    runId: 'run-m',
    width: WIDTH,
    height: HEIGHT,
    createdAt: '2026-11-30T00:00:00.000Z',
    geoTransform: [645000, 0.2, 0, 6865000, 0, -0.2],
    model: { ...SYNTHETIC_MODEL, location: '/m', name: 'flair-inc' },
    output: dir,
    topK: 1,
  });
  const store = new LocalStore(dir);
  const state = new RunState(redis, prefix, spec.runId);
  const plan = windowPlanOf(spec);
  const index = new BlockIndex(spec.blocks);
  const windows = [...iterateWindows(plan)];
  await state.init({ ...spec, windowCount: windows.length }, new Map([['all', windows.length]]));
  for (const w of windows) {
    const bytes = w.id === corrupt ? Buffer.from('not a mask tile at all') : encodeMaskTile(syntheticMaskTile(plan, w, () => 1));
    await store.put(outputKeys.maskTile(spec.runId, w.id), bytes);
    await state.completeWindow(w.index, w.id, 'done', index.touching(w));
  }
  return { dir, spec, state };
}

async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startMerger', () => {
  const redis = createRedisConnection(testRedisUrl());
  afterAll(() => redis.quit());
  const log = createLogger('merger-test');
  log.level = 'silent';

  /**
   * A merger on a finished run's windows, given the run's one merge job (unless `enqueue` is
   * false: `body` adds its own jobs); closed and cleaned up after `body`.
   */
  async function withMerger(
    name: string,
    corrupt: string | undefined,
    body: (run: { prefix: string; queues: FleetQueues; metrics: () => Promise<string> } & Awaited<ReturnType<typeof finishedWindows>>) => Promise<void>,
    enqueue = true,
  ): Promise<void> {
    const prefix = uniquePrefix(name);
    const run = await finishedWindows(redis, prefix, corrupt);
    const queues = new FleetQueues(redis, prefix);
    const merger = await startMerger(testRedisUrl(), parseMergerEnv({ FLEET_QUEUE_PREFIX: prefix, FLEET_METRICS_PORT: String(await freePort()) }), log);
    const metrics = async () => (await fetch(`http://127.0.0.1:${merger.metricsPort}/metrics`)).text();
    try {
      if (enqueue) await queues.add('merge-block', { runId: run.spec.runId, blockId: 'all' }, jobIds.block(run.spec.runId, 'all'));
      await body({ ...run, prefix, queues, metrics });
    } finally {
      await merger.close();
      await queues.merge.obliterate({ force: true });
      await queues.close();
      await rm(run.dir, { recursive: true, force: true });
    }
  }

  it('fails a block with a corrupt mask tile permanently, on its first attempt', async () => {
    await withMerger('merger-corrupt', 'r0-c1', async ({ spec, queues, metrics }) => {
      await until(async () => (await queues.merge.getJobCountByTypes('failed')) === 1, 'the merge to fail');
      const job = await queues.merge.getJob(jobIds.block(spec.runId, 'all'));
      expect(job?.attemptsMade).toBe(1);
      expect(job?.opts.attempts).toBe(3);
      expect(job?.failedReason).toMatch(/r0-c1.*not a flair-fleet mask tile/);
      // counted failed, nothing merged
      await until(async () => (await metrics()).includes('fleet_merger_merges_total{outcome="failed",fleet_process="merger"} 1'), 'the failed merge counted');
      const text = await metrics();
      expect(text).not.toContain('fleet_merger_merges_total{outcome="done"');
      expect(text).not.toContain('fleet_merger_blocks_merged_total{');
    });
  }, 60_000);

  it('merges and finalises a run, whose Redis state then expires after FLEET_RUN_TTL_DAYS (7 by default)', async () => {
    await withMerger('merger-ttl', undefined, async ({ prefix, spec, state, metrics }) => {
      await until(async () => (await state.progress())?.status === 'done', 'the run to finish');
      await until(async () => (await metrics()).includes('fleet_merger_merges_total{outcome="done",fleet_process="merger"} 1'), 'the merge counted');
      const text = await metrics();
      expect(text).toContain('fleet_merger_blocks_merged_total{run="run-m",fleet_process="merger"} 1');
      expect(text).toContain('fleet_merger_merge_seconds_count{fleet_process="merger"} 1');
      expect(text).toContain('fleet_merger_runs_finalized_total{complete="true",fleet_process="merger"} 1');
      const k = runKeys(prefix, spec.runId);
      for (const key of [k.spec, k.status, k.report, k.windowsDone, k.blockRemaining, k.blocksMerged, k.blockResults]) {
        const ttl = await redis.ttl(key);
        expect([key, ttl > 7 * 86_400 - 60 && ttl <= 7 * 86_400]).toEqual([key, true]);
      }
    });
  }, 60_000);

  // Redis losing its last second of writes (AOF everysec) can take a window's completion while
  // the merge it led to, or the finalisation, is already running in a merger: seen as a run
  // marked done with windows missing from its done bitmap (test/faults/redis-loss.test.ts)
  it('a merge whose block has a window Redis no longer counts done waits, delayed without spending an attempt, and merges once the window is done again', async () => {
    await withMerger('merger-wait-block', undefined, async ({ prefix, spec, state, queues, dir }) => {
      const k = runKeys(prefix, spec.runId);
      // what Redis keeps when a window's completion is lost: its bit unset, the block counting it
      await redis.multi().setbit(k.windowsDone, 1, 0).hincrby(k.blockRemaining, 'all', 1).exec();
      await queues.add('merge-block', { runId: spec.runId, blockId: 'all' }, jobIds.block(spec.runId, 'all'));
      const id = jobIds.block(spec.runId, 'all');
      await until(async () => (await queues.merge.getJobState(id)) === 'delayed', 'the merge to wait');
      const job = await queues.merge.getJob(id);
      expect([job?.attemptsMade, await state.mergedBlocks(), (await state.progress())?.status]).toEqual([0, new Set(), 'running']);
      expect(await new LocalStore(dir).list(outputKeys.blockRecords(spec.runId))).toEqual([]);
      // the window runs again: its block is ready, and the waiting job (same id) merges it
      const plan = windowPlanOf(spec);
      const w = [...iterateWindows(plan)][1]!;
      expect(await state.completeWindow(w.index, w.id, 'done', ['all'])).toEqual(['all']);
      await until(async () => (await state.progress())?.status === 'done', 'the run to finish', 30_000);
      expect(await state.outstanding(spec.windowCount)).toEqual({ windows: 0, blocks: 0 });
    }, false);
  }, 60_000);

  it('a finalisation that finds a window not recorded done waits, and finalises once it is', async () => {
    await withMerger('merger-wait-final', undefined, async ({ prefix, spec, state, queues }) => {
      await until(async () => (await state.mergedBlocks()).has('all'), 'the block to merge');
      const k = runKeys(prefix, spec.runId);
      await until(async () => (await state.progress())?.status === 'done', 'the run to finish');
      // the same run finalised again with one window's bit lost: not marked done again until it is back
      await redis.multi().setbit(k.windowsDone, 2, 0).set(k.status, 'running').exec();
      await queues.merge.remove(jobIds.finalize(spec.runId));
      await queues.add('finalize-run', { runId: spec.runId }, jobIds.finalize(spec.runId));
      await until(async () => (await queues.merge.getJobState(jobIds.finalize(spec.runId))) === 'delayed', 'the finalisation to wait');
      expect([(await queues.merge.getJob(jobIds.finalize(spec.runId)))?.attemptsMade, (await state.progress())?.status]).toEqual([0, 'running']);
      expect(await state.outstanding(spec.windowCount)).toEqual({ windows: 1, blocks: 0 });
      await redis.setbit(k.windowsDone, 2, 1);
      await until(async () => (await state.progress())?.status === 'done', 'the run to finish again', 30_000);
    });
  }, 60_000);
});
