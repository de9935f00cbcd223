import { publishedBlock, publishedReport } from '../support/published';
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runFleet, startFleet } from '../support/fleet-process';
import { checkBlock } from '../support/map-check';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import {
  alive,
  cutTileData,
  DALLE_TIME,
  differingBlocks,
  expectEveryWindowOnce,
  Fleet,
  fleetEnv,
  logLines,
  prepareFixture,
  readBlocks,
  runArgs,
  sleep,
  WINDOWS,
  type Fixture,
} from './fleet-harness';

/**
 * Process faults on a real multi-process fleet: workers and the merger killed (SIGKILL) or
 * stopped (SIGTERM) mid-run, the coordinator killed mid-enqueue and run twice, a corrupt input
 * fixed and retried. Every scenario writes to the same output folder as the fault-free
 * reference run (so the run id, which is stamped into each block, is the same) and must end
 * with every window counted once and blocks byte-identical to the reference's.
 */
describe('fleet under process faults', () => {
  let fx: Fixture;
  let out: string;
  let reference: Map<string, Buffer>;
  let referenceRunId: string;
  const fleets: Fleet[] = [];
  const figures: string[] = [];

  /** A fresh fleet on its own queue prefix, writing to the shared (emptied) output folder. */
  function scenario(name: string, extra: Record<string, string> = {}): Fleet {
    rmSync(out, { recursive: true, force: true });
    const logDir = join(fx.root, 'logs', name);
    mkdirSync(logDir, { recursive: true });
    const fleet = new Fleet(fleetEnv(testRedisUrl(), uniquePrefix(name), extra), logDir);
    fleets.push(fleet);
    return fleet;
  }

  beforeAll(async () => {
    fx = await prepareFixture('process');
    out = join(fx.root, 'out');
  }, 180_000);

  afterAll(async () => {
    for (const f of fleets) await f.close();
    console.log(`process faults:\n  ${figures.join('\n  ')}`);
    if (fx) rmSync(fx.root, { recursive: true, force: true });
  });

  it('reference: a fault-free run reproduces the whole-mosaic argmax; a malformed payload fails at once', async () => {
    const fleet = scenario('reference');
    const started = Date.now();
    const run = await fleet.enqueue(runArgs(fx, out));
    referenceRunId = run.runId;
    expect(run).toMatchObject({ created: true, submitted: WINDOWS, windows: WINDOWS, blocks: 4 });
    fleet.start('worker');
    fleet.start('worker');
    fleet.start('merger');

    // a job whose payload does not match the catalogue: failed permanently, first attempt, with the reason
    await fleet.queues.infer.add('infer-group', { runId: run.runId, group: { col: 0 } }, { jobId: 'malformed', attempts: 3 });

    await fleet.waitFor(run.runId, (p) => p.status === 'done');
    const seconds = (Date.now() - started) / 1000;
    await expectEveryWindowOnce(fleet.state(run.runId));
    const stats = await fleet.state(run.runId).stats();
    let malformed = await fleet.queues.infer.getJob('malformed');
    for (let i = 0; i < 100 && !malformed?.failedReason; i++) {
      await sleep(50);
      malformed = await fleet.queues.infer.getJob('malformed');
    }
    expect(malformed?.failedReason).toMatch(/^invalid infer-group payload: group\.row: /);
    expect(malformed?.attemptsMade).toBe(1);
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);

    reference = readBlocks(out);
    expect([...reference.keys()]).toEqual(fx.mosaic.dalles.map((d) => `${d.name}.tif`).sort());
    for (const d of fx.mosaic.dalles) {
      const block = await checkBlock(publishedBlock(out, `${d.name}`), d, fx.mosaic.width, fx.expected);
      expect([d.name, block.width, block.height, block.mismatches]).toEqual([d.name, 400, 400, 0]);
      // and an independent reader agrees on its shape
      const info = JSON.parse(execFileSync('gdalinfo', ['-json', publishedBlock(out, `${d.name}`)], { encoding: 'utf8' })) as { size: number[] };
      expect(info.size).toEqual([400, 400]);
    }
    const perWindow = (f: string) => ((stats[f] ?? 0) / WINDOWS).toFixed(0);
    figures.push(`reference: ${WINDOWS} windows, 2 workers + merger, ${seconds.toFixed(1)} s; per window (batches of 2, 1 CPU thread): read ${perWindow('readMs')} ms, infer ${perWindow('inferMs')} ms, post ${perWindow('postMs')} ms, upload ${perWindow('uploadMs')} ms`);
  }, 120_000);

  it('worker SIGKILL mid-batch: its windows stall, come back to another worker, nothing lost or doubled', async () => {
    const fleet = scenario('worker-kill');
    const run = await fleet.enqueue(runArgs(fx, out));
    const doomed = fleet.start('worker');
    fleet.start('merger');
    const atKill = await fleet.waitFor(run.runId, (p) => p.done >= 4);
    // it holds the next batch (2 windows in hand) when it dies
    const activeAtKill = await fleet.queues.infer.getActiveCount();
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAt = Date.now();
    fleet.start('worker');
    await fleet.waitFor(run.runId, (p) => p.status === 'done');
    const recover = (Date.now() - killedAt) / 1000;

    await expectEveryWindowOnce(fleet.state(run.runId));
    expect(await fleet.queues.infer.getJobCounts('wait', 'active', 'delayed', 'failed')).toEqual({ wait: 0, active: 0, delayed: 0, failed: 0 });
    expect(await fleet.stopAll()).toEqual([null, 0, 0]);
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    const stalled = logLines(fleet.logDir, 'worker').filter((l) => /stalled/i.test(String(l.msg))).length;
    figures.push(`worker SIGKILL at ${atKill.done}/${WINDOWS} done, ${activeAtKill} job(s) active: run finished ${recover.toFixed(1)} s after the kill (lock 5 s, stalled check 1 s)${stalled ? `, ${stalled} stalled log line(s)` : ''}`);
  }, 120_000);

  it('worker SIGTERM: stops taking jobs, finishes those in hand, exits 0; nothing stalls', async () => {
    const fleet = scenario('worker-term');
    const run = await fleet.enqueue(runArgs(fx, out));
    const leaving = fleet.start('worker');
    fleet.start('merger');
    const atTerm = await fleet.waitFor(run.runId, (p) => p.done >= 4);
    const termAt = Date.now();
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited).toBe(0);
    const shutdownMs = Date.now() - termAt;
    // what it held is finished, not abandoned: no job is left active for a stalled check
    expect(await fleet.queues.infer.getActiveCount()).toBe(0);
    const afterExit = (await fleet.state(run.runId).progress())!;
    expect(afterExit.done).toBeGreaterThanOrEqual(atTerm.done);
    expect(afterExit.done).toBeLessThan(WINDOWS);

    fleet.start('worker');
    await fleet.waitFor(run.runId, (p) => p.status === 'done');
    await expectEveryWindowOnce(fleet.state(run.runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    figures.push(`worker SIGTERM at ${atTerm.done}/${WINDOWS} done: exited 0 in ${shutdownMs} ms with ${afterExit.done - atTerm.done} window(s) finished on the way out, 0 left active`);
  }, 120_000);

  it('merger SIGKILL mid-block: the block is merged again from the same tiles, byte-identical', async () => {
    // a 5 s merge lock and a 1 s stalled check: the killed merger's block returns in ~5-7 s
    const fleet = scenario('merger-kill');
    const run = await fleet.enqueue(runArgs(fx, out));
    // every window first, so the 4 merges wait in the queue and the kill lands on a merge
    fleet.start('worker');
    fleet.start('worker');
    await fleet.waitFor(run.runId, (p) => p.done === WINDOWS);
    // a worker records its window, then enqueues the merges it made ready: wait for the last
    for (let i = 0; i < 400 && (await fleet.queues.merge.getWaitingCount()) < 4; i++) await sleep(25);
    expect(await fleet.queues.merge.getWaitingCount()).toBe(4);

    // The merger is held mid-merge: r1-c1 (which every block needs) becomes a FIFO, so its
    // read blocks until a writer opens it; a non-blocking open for writing succeeds only once
    // the merger has opened it for reading, i.e. it is inside a block's merge. Holding our
    // writer end open without writing keeps it there until the kill.
    const tilePath = join(out, '_work', run.runId, 'tiles', 'r1-c1.tile');
    const tileBytes = readFileSync(tilePath);
    rmSync(tilePath);
    execFileSync('mkfifo', [tilePath]);
    const doomed = fleet.start('merger');
    let writer: number | undefined;
    const deadline = Date.now() + 30_000;
    while (writer === undefined) {
      try {
        writer = openSync(tilePath, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
        if (Date.now() > deadline || !alive(doomed)) throw new Error(`merger never read the tile: ${doomed.stderr()}`);
        await sleep(5);
      }
    }
    const active = await fleet.queues.merge.getActive();
    expect(active).toHaveLength(1);
    const held = active[0]!;
    const heldBlock = (held.data as { blockId: string }).blockId;
    const mergedAtKill = (await fleet.state(run.runId).progress())!.blocksMerged;
    expect(mergedAtKill).toBe(0);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAt = Date.now();
    closeSync(writer);
    rmSync(tilePath);
    writeFileSync(tilePath, tileBytes);
    // it died before finishing the block: no record anywhere
    expect(existsSync(join(out, '_work', run.runId, 'blocks', `${heldBlock}.json`))).toBe(false);
    expect(existsSync(join(out, 'runs', run.runId, 'blocks', `${heldBlock}.tif`))).toBe(false);

    fleet.start('merger');
    const recovered = await new Promise<number>((resolve, reject) => {
      const deadline = Date.now() + 60_000;
      const poll = async () => {
        const done = (await fleet.state(run.runId).progress())!;
        if (done.status === 'done') return resolve((Date.now() - killedAt) / 1000);
        if (Date.now() > deadline) return reject(new Error(`run not finished after the merger kill: ${JSON.stringify(done)}`));
        setTimeout(() => void poll().catch(reject), 25);
      };
      void poll().catch(reject);
    });
    await expectEveryWindowOnce(fleet.state(run.runId));
    // the held job came back as stalled (BullMQ counts it on the job's record) and completed;
    // no other merge job stalled
    const heldAfter = (await fleet.queues.merge.getJob(held.id!))!;
    expect([await heldAfter.getState(), heldAfter.stalledCounter]).toEqual(['completed', 1]);
    const stalledJobs = (await fleet.queues.merge.getCompleted()).filter((j) => (j.stalledCounter ?? 0) > 0).map((j) => j.id);
    expect(stalledJobs).toEqual([held.id]);
    // the second merger merged that block itself (not found recorded) ...
    const merges = logLines(fleet.logDir, 'merger').filter((l) => l.msg === 'block merged' && l.blockId === heldBlock);
    expect(merges.map((l) => l.alreadyRecorded)).toEqual([false]);
    expect(await fleet.stopAll()).toEqual([0, 0, null, 0]);
    // ... identically to the reference
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    const report = publishedReport(out);
    expect(report).toMatchObject({ complete: true, windows: { total: WINDOWS, done: WINDOWS, failed: 0 } });
    figures.push(`merger SIGKILL held mid-merge of ${heldBlock} (reading a tile), 0/4 blocks merged: that job recovered as stalled (stalledCounter 1), block merged again byte-identical, run finished ${recovered.toFixed(1)} s after the kill (merge lock 5 s, FLEET_MERGE_STALLED_MS 1 s)`);
  }, 120_000);

  it('coordinator killed mid-enqueue, then enqueued twice: no duplicate work, no missing window', async () => {
    const fleet = scenario('enqueue');
    const args = runArgs(fx, out);
    const doomed = startFleet(['enqueue', ...args], fleet.env);
    fleet.procs.push(doomed);
    // killed as soon as the run exists in Redis: before, during or just after its one addBulk
    const specKey = `${fleet.env.FLEET_QUEUE_PREFIX}:runs`;
    const deadline = Date.now() + 30_000;
    while ((await fleet.connection.scard(specKey)) === 0) {
      if (Date.now() > deadline || !alive(doomed)) break;
      await sleep(1);
    }
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const queuedAtKill = await fleet.queues.infer.count();

    const first = await fleet.enqueue(args);
    const second = await fleet.enqueue(args);
    expect(first).toMatchObject({ alreadyDone: 0, windows: WINDOWS });
    expect(second).toMatchObject({ runId: first.runId, created: false, alreadyDone: 0, submitted: WINDOWS });
    // BullMQ ignores ids it already holds: each window is queued once
    expect(await fleet.queues.infer.count()).toBe(WINDOWS);

    fleet.start('worker');
    fleet.start('merger');
    await fleet.waitFor(first.runId, (p) => p.status === 'done');
    // a third enqueue of the finished, published run submits nothing: nothing changed since it
    expect(await fleet.enqueue(args)).toMatchObject({ runId: first.runId, unchanged: true, message: expect.stringMatching(/^nothing changed since run /) });
    await expectEveryWindowOnce(fleet.state(first.runId));
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    expect((await fleet.stopAll()).slice(1)).toEqual([0, 0]);
    figures.push(`coordinator SIGKILL mid-enqueue (${queuedAtKill} window job(s) queued at the kill, run ${first.created ? 'not yet' : 'already'} recorded), then 2 enqueues: ${WINDOWS} jobs queued once, each window done once`);
  }, 120_000);

  it('corrupt input: its windows fail once and permanently, run.json lists them; fixed + fleet retry completes the run', async () => {
    const fleet = scenario('retry');
    const dalle = join(fx.mosaic.dir, 'D-1-1.tif');
    const original = readFileSync(dalle);
    const atime = DALLE_TIME;
    const mtime = DALLE_TIME;
    // only its last 128 px tile (mosaic x, y >= 784): read by the one window that reaches
    // the mosaic's bottom-right corner, r3-c3; every other window reads clean tiles
    writeFileSync(dalle, cutTileData(original, [15]));
    // same inode, size and mtime as before: the same run id as the reference (the etag of a
    // local file), so the retried run's blocks can be compared byte for byte
    utimesSync(dalle, atime, mtime);
    try {
      const run = await fleet.enqueue(runArgs(fx, out));
      expect(run.runId).toBe(referenceRunId);
      // nothing has run yet: a retry now is refused, since failures are final only at the end
      const early = await runFleet(['retry', run.runId], fleet.env);
      expect([early.code, early.stdout, early.stderr]).toEqual([
        1, '', `fleet retry: run ${run.runId} has not finished (${WINDOWS} window(s) pending, 0/4 blocks merged): retry once fleet status says done\n`,
      ]);
      fleet.start('worker');
      fleet.start('merger');
      const failedRun = await fleet.waitFor(run.runId, (p) => p.status === 'done');
      expect([failedRun.done, failedRun.failed]).toEqual([WINDOWS - 1, 1]);
      expect(Object.keys(await fleet.state(run.runId).failures())).toEqual(['r3-c3']);
      const report = publishedReport(out);
      expect(report).toMatchObject({ complete: false, windows: { total: WINDOWS, failed: failedRun.failed } });
      for (const f of report.windows.failures) expect(f.error).toContain(dalle);
      expect(report.blocks.find((b: { id: string }) => b.id === 'D-1-1')).toMatchObject({ incomplete: true });

      // one attempt each: a corrupt file is permanent
      const failures = logLines(fleet.logDir, 'worker').filter((l) => l.msg === 'window failed');
      expect(failures.map((l) => [l.attempt, l.permanent])).toEqual(Array.from({ length: failedRun.failed }, () => [1, true]));

      const status = JSON.parse((await runFleet(['status', run.runId], fleet.env)).stdout);
      expect(status).toMatchObject({ status: 'done', failed: failedRun.failed, pending: 0 });
      const d11 = status.blockWindows.find((b: { blockId: string }) => b.blockId === 'D-1-1');
      expect(d11).toEqual({ blockId: 'D-1-1', windows: WINDOWS, done: WINDOWS - 1, carried: 0, skipped: 0, failed: 1, pending: 0, merged: true });
      expect(Object.keys(status.failures)).toHaveLength(failedRun.failed);

      // fix the input, retry: only the failed windows run again, then their blocks merge again
      writeFileSync(dalle, original);
      utimesSync(dalle, atime, mtime);
      const retryAt = Date.now();
      const retried = await runFleet(['retry', run.runId], fleet.env);
      expect([retried.code, retried.stderr]).toEqual([0, expect.stringContaining('failed windows re-enqueued')]);
      const retry = JSON.parse(retried.stdout) as { windows: number; blocks: string[] };
      expect(retry.windows).toBe(failedRun.failed);
      expect(retry.blocks).toContain('D-1-1');
      await fleet.waitFor(run.runId, (p) => p.status === 'done' && p.failed === 0);
      const retrySeconds = (Date.now() - retryAt) / 1000;
      await expectEveryWindowOnce(fleet.state(run.runId));
      expect(publishedReport(out)).toMatchObject({ complete: true, windows: { done: WINDOWS, failed: 0, failures: [] } });
      for (const d of fx.mosaic.dalles) {
        expect([d.name, (await checkBlock(publishedBlock(out, `${d.name}`), d, fx.mosaic.width, fx.expected)).mismatches]).toEqual([d.name, 0]);
      }
      expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
      // a second retry finds nothing to do
      expect(JSON.parse((await runFleet(['retry', run.runId], fleet.env)).stdout)).toMatchObject({ windows: 0, blocks: [] });
      expect(await fleet.stopAll()).toEqual([0, 0]);
      figures.push(`corrupt D-1-1.tif: ${failedRun.failed} window(s) failed on attempt 1 (permanent), ${retry.blocks.length} block(s) incomplete; fixed + fleet retry: ${retry.windows} window(s) re-run, ${retry.blocks.length} block(s) re-merged in ${retrySeconds.toFixed(1)} s, blocks byte-identical`);
    } finally {
      writeFileSync(dalle, original);
      utimesSync(dalle, atime, mtime);
    }
  }, 150_000);
});
