import { publishedBlock, publishedReport } from '../support/published';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGeoTiff } from '../../packages/raster/src';
import { Worker } from 'bullmq';
import { FleetQueues, QUEUES, RunState } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';
import { wholeMosaicArgmax } from '../support/map-check';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A worker killed half-way (SIGKILL: no graceful shutdown, its job in hand stays "active"
 * with a lock nobody renews), then `fleet enqueue` again and a fresh worker and merger: the
 * run must resume from the done bitmap, enqueue only what is left, retry the killed worker's
 * window once its lock expires, and finish with every window counted exactly once and a map
 * equal to the whole-mosaic argmax.
 *
 * How long the killed worker's window waits: its lock (FLEET_LOCK_MS=5000 here) must expire,
 * and then BullMQ's stalled-job check must see the job twice (once to mark it, once to move it
 * back to wait) at least `stalledInterval` apart. `fleet worker` leaves that at BullMQ's
 * default of 30 s, and the check is shared by every worker of a queue (a key with that TTL),
 * so a SIGKILLed window comes back 30 to 60 s after its worker started checking. To keep the
 * test near 30 s, the test runs the one part of a BullMQ worker that recovers stalled jobs
 * (Worker.startStalledCheckTimer, no processor: it takes no job) with a 1 s interval.
 */
describe('resuming a run after a worker is killed', () => {
  let root: string;
  let mosaic: StackFixture;
  let expected: Uint8Array;
  const procs: FleetProcess[] = [];
  const connection = createRedisConnection(testRedisUrl());
  const prefix = uniquePrefix('resume');
  const queues = new FleetQueues(connection, prefix);
  let stalledChecker: Worker | undefined;
  const checkerConnection = createRedisConnection(testRedisUrl());

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-resume-'));
    // 800 x 800 px with --overlap 384 (a 128 px step): windows at 0, 128, 256, 288 on each
    // axis -> 16 windows, 4 blocks, on few pixels (the fixture writer is slow under jest)
    mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 400, 400);
    expected = await wholeMosaicArgmax(mosaic, writePerPixelModel(join(root, 'model'), 13));
  });

  afterAll(async () => {
    await stalledChecker?.close();
    checkerConnection.disconnect();
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await queues.close();
    connection.disconnect();
    rmSync(root, { recursive: true, force: true });
  });

  it('enqueues only the remaining windows and finishes with each window done once', async () => {
    // one window at a time (so a kill lands mid-run), and a 5 s lock so that the killed
    // worker's window is free to be recovered soon after the kill (see the note above)
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix, FLEET_BATCH_SIZE: '1', FLEET_CONCURRENCY: '1', FLEET_THREADS: '1', FLEET_LOCK_MS: '5000' };
    const out = join(root, 'out');
    const args = ['--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out, '--overlap', '384'];

    const first = await runFleet(['enqueue', ...args], env);
    expect([first.code, first.stderr]).toEqual([0, '']);
    const enqueued = JSON.parse(first.stdout) as { runId: string; created: boolean; submitted: number; alreadyDone: number; windows: number; blocks: number };
    expect(enqueued).toMatchObject({ created: true, submitted: 16, alreadyDone: 0, windows: 16, blocks: 4 });
    const state = new RunState(connection, prefix, enqueued.runId);

    // one worker until about half the windows are done, then SIGKILL
    const doomed = startFleet(['worker'], env);
    procs.push(doomed);
    const deadline = Date.now() + 40_000;
    while (((await state.progress())?.done ?? 0) < 8) {
      if (Date.now() > deadline || doomed.child.exitCode !== null) throw new Error(`worker made no progress: ${doomed.stderr()}`);
      await sleep(20);
    }
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    expect(doomed.child.signalCode).toBe('SIGKILL');
    const atKill = (await state.progress())!;
    expect(atKill.done).toBeGreaterThanOrEqual(8);
    expect(atKill.done).toBeLessThan(16);
    expect(atKill.blocksMerged).toBe(0); // no merger yet

    // enqueue again: the same run, the finished windows skipped
    const second = await runFleet(['enqueue', ...args], env);
    expect([second.code, second.stderr]).toEqual([0, '']);
    const resumed = JSON.parse(second.stdout) as typeof enqueued;
    expect(resumed).toMatchObject({ runId: enqueued.runId, created: false, alreadyDone: atKill.done, windows: 16 });
    expect(resumed.submitted).toBe(16 - atKill.done);
    // BullMQ ignored the ids still queued: no window is in the queue twice. The killed
    // worker's window is still "active" (its lock outlives the process by up to 5 s).
    const counts = await queues.infer.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
    expect(counts.active).toBeLessThanOrEqual(1);
    const queued = counts.wait! + counts.active! + counts.delayed! + counts.prioritized! + counts.paused!;
    // + 1 only if the killed worker had recorded its window as done but not yet told BullMQ
    expect([16 - atKill.done, 16 - atKill.done + 1]).toContain(queued);

    const started = Date.now();
    procs.push(startFleet(['worker'], env), startFleet(['merger'], env));
    stalledChecker = new Worker(QUEUES.infer, null, { connection: checkerConnection, prefix, autorun: false, stalledInterval: 1000 });
    let recovered = 0;
    stalledChecker.on('stalled', () => recovered++);
    await stalledChecker.startStalledCheckTimer();
    const finishBy = Date.now() + 60_000;
    while ((await state.progress())?.status !== 'done') {
      if (Date.now() > finishBy) throw new Error(`run did not finish: ${JSON.stringify(await state.progress())}\n${procs.map((p) => p.stderr()).join('\n')}`);
      await sleep(200);
    }
    const resumeSeconds = (Date.now() - started) / 1000;
    // The run can be done before the killed worker's job leaves "active": when that worker had
    // recorded its windows but not told BullMQ, nothing is left to infer, and the run (merges
    // included) may finish within the job's 5 s lock. The stalled check then moves the job back
    // and a live worker completes it without counting a window twice (asserted below).
    while (true) {
      const c = await queues.infer.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      if (c.wait! + c.active! + c.delayed! + c.prioritized! === 0) break;
      if (Date.now() > finishBy) throw new Error(`the infer queue did not drain: ${JSON.stringify(c)}`);
      await sleep(200);
    }
    await stalledChecker.close();
    expect(await Promise.all(procs.slice(1).map(stopFleet))).toEqual([0, 0]);

    // each window counted exactly once, whatever was inferred twice
    const stats = await state.stats();
    expect([stats.windows_done, stats.windows_skipped ?? 0, stats.windows_failed ?? 0]).toEqual([16, 0, 0]);
    expect(await state.progress()).toMatchObject({ windows: 16, done: 16, failed: 0, blocks: 4, blocksMerged: 4 });
    const counted = await runFleet(['status', enqueued.runId], env);
    expect(JSON.parse(counted.stdout)).toMatchObject({ status: 'done', windows: 16, done: 16, failed: 0, blocksMerged: 4 });
    expect(await queues.infer.getJobCounts('wait', 'active', 'delayed', 'failed')).toEqual({ wait: 0, active: 0, delayed: 0, failed: 0 });

    const report = publishedReport(out);
    expect(report).toMatchObject({ runId: enqueued.runId, complete: true, windows: { total: 16, done: 16, skipped: 0, failed: 0 } });

    let mismatches = 0;
    for (const d of mosaic.dalles) {
      const file = await openGeoTiff(publishedBlock(out, `${d.name}`));
      const [classes] = await file.readWindow({ x: 0, y: 0, width: d.width, height: d.height });
      await file.close();
      for (let y = 0; y < d.height; y++) {
        for (let x = 0; x < d.width; x++) {
          if (classes![y * d.width + x] !== expected[(d.y + y) * mosaic.width + d.x + x]) mismatches++;
        }
      }
    }
    expect(mismatches).toBe(0);
    console.log(`resume: killed at ${atKill.done}/16 windows, resubmitted ${resumed.submitted}, ${counts.active} left active, ${recovered} recovered by the test's stalled check, resumed run took ${resumeSeconds.toFixed(1)} s`);
  }, 120_000);
});
