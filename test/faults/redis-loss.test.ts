import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { windowAt } from '../../packages/grid/src';
import { FleetQueues, geometryOf, jobIds, RunState, windowPlanOf, type RunSpec } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { startPrivateRedis, type PrivateRedis } from '../../packages/redis/src';
import { uniquePrefix } from '../support/redis';
import {
  alive,
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

/** A mask tile as it lies in the output folder: a rewrite (temp file + rename) is a new inode. */
interface TileFile {
  ino: number;
  mtimeNs: bigint;
}

/**
 * Redis losing the run state, with storage holding the truth of what was done: Redis
 * SIGKILLed with AOF `everysec` (up to a second of writes lost), and Redis wiped then the
 * same `fleet enqueue` run again. The run must complete, blocks byte-identical to a
 * fault-free reference run's, and mask tiles already in storage (whose work Redis still
 * knew, or that the re-enqueue found) are not inferred again: their files are never rewritten.
 * Mask tiles are kept (FLEET_KEEP_TILES=1) so that they can be compared after the run.
 */
describe('fleet when Redis loses the run state', () => {
  let fx: Fixture;
  let out: string;
  let redisDir: string;
  let redis: PrivateRedis;
  let reference: Map<string, Buffer>;
  const fleets: Fleet[] = [];
  const figures: string[] = [];

  function scenario(name: string): Fleet {
    rmSync(out, { recursive: true, force: true });
    const logDir = join(fx.root, 'logs', name);
    mkdirSync(logDir, { recursive: true });
    // a merge Redis saw taken but whose end was in the lost second is active again after the
    // restart, under a lock no process renews: it comes back once that lock runs out and the
    // stalled check sees it (fleetEnv's merge lock and check: 5 s and 1 s)
    const fleet = new Fleet(fleetEnv(redis.url, uniquePrefix(name), { FLEET_KEEP_TILES: '1' }), logDir);
    fleets.push(fleet);
    return fleet;
  }

  /** 2 workers logging each inference (debug) and a merger. */
  function startAll(fleet: Fleet): void {
    fleet.start('worker', { LOG_LEVEL: 'debug' });
    fleet.start('worker', { LOG_LEVEL: 'debug' });
    fleet.start('merger');
  }

  function tileFiles(runId: string): Map<string, TileFile> {
    const dir = join(out, '_work', runId, 'tiles');
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((f) => f.endsWith('.tile'));
    } catch {
      // none yet
    }
    return new Map(
      names.map((f) => {
        const s = statSync(join(dir, f), { bigint: true });
        return [f.replace(/\.tile$/, ''), { ino: Number(s.ino), mtimeNs: s.mtimeNs }];
      }),
    );
  }

  /** Windows whose tile file was rewritten (or removed) since `before`. */
  function rewritten(runId: string, before: Map<string, TileFile>): string[] {
    const now = tileFiles(runId);
    return [...before].filter(([id, t]) => now.get(id)?.ino !== t.ino || now.get(id)?.mtimeNs !== t.mtimeNs).map(([id]) => id).sort();
  }

  /** How many times each window was inferred, from the workers' debug logs. */
  function inferences(fleet: Fleet): Map<string, number> {
    const counts = new Map<string, number>();
    for (const l of logLines(fleet.logDir, 'worker')) if (l.msg === 'window inferred') counts.set(String(l.windowId), (counts.get(String(l.windowId)) ?? 0) + 1);
    return counts;
  }

  /** SIGKILLs the fleet's Redis and waits for it to exit; returns its port, for restartRedis. */
  async function killRedis(): Promise<number> {
    const port = redis.port;
    const exited = new Promise((r) => redis.process.once('exit', r));
    redis.process.kill('SIGKILL');
    await exited;
    return port;
  }

  async function restartRedis(port: number, fresh: boolean): Promise<void> {
    if (fresh) {
      rmSync(redisDir, { recursive: true, force: true });
      mkdirSync(redisDir);
    }
    redis = await startPrivateRedis({ appendOnly: true, dir: redisDir, port });
  }

  beforeAll(async () => {
    fx = await prepareFixture('redis-loss');
    out = join(fx.root, 'out');
    redisDir = mkdtempSync(join(tmpdir(), 'fleet-aof-loss-'));
    redis = await startPrivateRedis({ appendOnly: true, dir: redisDir });
  }, 180_000);

  afterAll(async () => {
    for (const f of fleets) await f.close();
    await redis?.stop();
    console.log(`Redis losing the run state:\n  ${figures.join('\n  ')}`);
    if (redisDir) rmSync(redisDir, { recursive: true, force: true });
    if (fx) rmSync(fx.root, { recursive: true, force: true });
  });

  it('reference: a fault-free run on the same Redis (AOF, appendfsync everysec)', async () => {
    const fleet = scenario('reference');
    // the production setting this suite loses a second of: appendfsync everysec
    expect(await fleet.connection.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    const started = Date.now();
    const run = await fleet.enqueue(runArgs(fx, out));
    expect(run).toMatchObject({ created: true, submitted: WINDOWS });
    startAll(fleet);
    await fleet.waitFor(run.runId, (p) => p.status === 'done', 120_000);
    await expectEveryWindowOnce(fleet.state(run.runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    reference = readBlocks(out);
    expect([...reference.keys()]).toEqual(fx.mosaic.dalles.map((d) => `${d.name}.tif`).sort());
    expect([...inferences(fleet).values()].reduce((a, b) => a + b, 0)).toBe(WINDOWS);
    figures.push(`reference: ${WINDOWS} windows, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 150_000);

  /** The AOF file Redis appends to now (Redis 7: appendonlydir/<name>.<seq>.incr.aof, highest seq). */
  function incrAof(): string {
    const dir = join(redisDir, 'appendonlydir');
    const seq = (f: string) => Number(/\.(\d+)\.incr\.aof$/.exec(f)?.[1] ?? -1);
    const file = readdirSync(dir).filter((f) => seq(f) >= 0).sort((a, b) => seq(b) - seq(a))[0];
    if (!file) throw new Error(`no incremental AOF in ${dir}`);
    return join(dir, file);
  }

  // The kill often comes as the run finishes (16/16 done at the kill is common): a merge or the
  // finalisation still running then outlives the lost second. They must not record a block or
  // mark the run done while Redis no longer counts its windows done (complete-block.lua,
  // finish-run.lua); before that guard the run was seen done with 12 of 16 windows recorded.
  it('Redis SIGKILLed mid-run losing its last second of writes (AOF everysec): restarted, the run completes by itself; windows Redis still knew are not inferred again', async () => {
    const fleet = scenario('redis-kill');
    const started = Date.now();
    const run = await fleet.enqueue(runArgs(fx, out));
    // the AOF's size over time: a host crash with appendfsync everysec keeps the file as it was
    // at the last fsync, up to a second before; a SIGKILLed redis-server alone loses nothing
    // (its writes are in the page cache), so the kill is followed by cutting the AOF back to
    // its size a second earlier
    const sizes: Array<{ at: number; size: number }> = [];
    const sampler = setInterval(() => sizes.push({ at: Date.now(), size: statSync(incrAof()).size }), 20);
    startAll(fleet);
    let atMark;
    let atKill;
    let doneBeforeKill: Buffer;
    try {
      // windows done more than a second before the kill survive the cut; those after it may not
      atMark = await fleet.waitFor(run.runId, (p) => p.done >= 4);
      await sleep(1300);
      atKill = (await fleet.state(run.runId).progress())!;
      doneBeforeKill = await fleet.state(run.runId).doneBitmap();
    } finally {
      clearInterval(sampler);
    }
    const killedAt = Date.now();
    const port = await killRedis();
    const aof = incrAof();
    const fullSize = statSync(aof).size;
    const kept = [...sizes].reverse().find((s) => s.at <= killedAt - 1000) ?? sizes[0]!;
    truncateSync(aof, kept.size);
    const tilesAtKill = tileFiles(run.runId);
    // what the AOF kept, read from a copy of it on a Redis of its own before the fleet can
    // reconnect and change it: the done bitmap, and which window jobs still exist (window jobs
    // are removed on completion, so one still there comes back: its completion, or its move to
    // active, was in the lost second, or it was in flight)
    const snapshotDir = mkdtempSync(join(tmpdir(), 'fleet-aof-snapshot-'));
    cpSync(redisDir, snapshotDir, { recursive: true });
    const snapshot = await startPrivateRedis({ appendOnly: true, dir: snapshotDir });
    const snapshotConnection = createRedisConnection(snapshot.url);
    const snapshotQueues = new FleetQueues(snapshotConnection, fleet.env.FLEET_QUEUE_PREFIX!);
    const ids = [...tilesAtKill.keys()];
    const cameBack = new Set<string>();
    let doneAfter: Buffer;
    let spec: RunSpec | undefined;
    try {
      const snapshotState = new RunState(snapshotConnection, fleet.env.FLEET_QUEUE_PREFIX!, run.runId);
      spec = await snapshotState.spec();
      doneAfter = await snapshotState.doneBitmap();
      // a window's job is its group's (one window per group at this size, see chooseGroupSide)
      const geometry = geometryOf(spec!);
      for (const id of ids) {
        const [row, col] = id.slice(1).split('-c').map(Number) as [number, number];
        if (await snapshotQueues.infer.getJob(jobIds.group(run.runId, geometry.groupOf({ row, col })))) cameBack.add(id);
      }
    } finally {
      await snapshotQueues.close();
      snapshotConnection.disconnect();
      await snapshot.stop();
      rmSync(snapshotDir, { recursive: true, force: true });
    }
    await restartRedis(port, false); // aof-load-truncated: a command cut in half is dropped
    const downMs = Date.now() - killedAt;

    const plan = windowPlanOf(spec!);
    const bit = (bitmap: Buffer, id: string) => {
      const [row, col] = id.slice(1).split('-c').map(Number) as [number, number];
      const i = windowAt(plan, row, col).index;
      return ((bitmap[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    };
    const lost = ids.filter((id) => bit(doneBeforeKill, id) && !bit(doneAfter, id));
    const known = new Map([...tilesAtKill].filter(([id]) => bit(doneAfter, id) && !cameBack.has(id)));

    await fleet.waitFor(run.runId, (p) => p.status === 'done', 120_000);
    const finishedAfter = (Date.now() - killedAt) / 1000;
    expect(fleet.procs.every(alive)).toBe(true);
    await expectEveryWindowOnce(fleet.state(run.runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    // a window recorded done whose job did not come back is never inferred again (its tile is
    // not rewritten); one whose completion was lost comes back and runs once more
    expect(known.size).toBeGreaterThanOrEqual(atMark.done);
    expect(rewritten(run.runId, known)).toEqual([]);
    const counts = inferences(fleet);
    for (const id of known.keys()) expect([id, counts.get(id)]).toEqual([id, 1]);
    for (const id of lost) expect([id, counts.get(id)]).toEqual([id, 2]);
    const again = [...counts].filter(([, n]) => n > 1).map(([id]) => id).sort();
    // a window inferred twice ran once more at most, and, if its tile was there at the kill, its job had come back
    for (const id of again) expect([id, counts.get(id), !tilesAtKill.has(id) || cameBack.has(id)]).toEqual([id, 2, true]);
    const mergerLines = logLines(fleet.logDir, 'merger');
    const waited = mergerLines.filter((l) => typeof l.msg === 'string' && l.msg.includes('waits for them')).length;
    // merges whose end was in the lost second: done again, finding their block recorded in storage
    const mergedAgain = mergerLines.filter((l) => l.msg === 'block merged' && l.alreadyRecorded === true).length;
    figures.push(
      `Redis SIGKILL at ${atKill.done}/${WINDOWS} done (${atMark.done} of them over 1.3 s before), AOF cut from ${fullSize} to ${kept.size} bytes (its size ${killedAt - kept.at} ms before the kill): ` +
        `down ${downMs} ms; ${lost.length} completion(s) lost [${lost.join(' ')}], ${cameBack.size} of the ${tilesAtKill.size} windows with a tile had their job back [${[...cameBack].sort().join(' ')}]; ` +
        `${again.length} window(s) inferred twice [${again.join(' ')}]; ${waited} merge or finalisation wait(s) for windows no longer recorded done; ${mergedAgain} block(s) merged again; run finished ${finishedAfter.toFixed(1)} s after the kill (whole run ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }, 180_000);

  it('Redis wiped mid-run, then the same fleet enqueue: the run is rebuilt from storage, tiles there are not inferred again', async () => {
    const fleet = scenario('redis-wipe');
    const started = Date.now();
    const first = await fleet.enqueue(runArgs(fx, out));
    startAll(fleet);
    const atWipe = await fleet.waitFor(first.runId, (p) => p.done >= 6);
    const wipedAt = Date.now();
    // the whole Redis is lost: killed and started again on an empty dir (no AOF to replay)
    await restartRedis(await killRedis(), true);
    expect(await fleet.state(first.runId).spec()).toBeUndefined();
    // the workers finish what they held in the meantime; their completions land in an empty Redis
    await sleep(1000);

    const tilesAtEnqueue = tileFiles(first.runId);
    const again = await fleet.enqueue(runArgs(fx, out));
    expect(again).toMatchObject({ runId: first.runId, created: true });
    const reconciled = again as typeof again & { reconciled: { tiles: number; windowsRestored: number } };
    expect(reconciled.reconciled.tiles).toBeGreaterThanOrEqual(tilesAtEnqueue.size);
    expect(again.submitted + again.alreadyDone).toBe(WINDOWS);
    expect(again.alreadyDone).toBeGreaterThanOrEqual(tilesAtEnqueue.size);

    await fleet.waitFor(first.runId, (p) => p.status === 'done', 120_000);
    const finishedAfter = (Date.now() - wipedAt) / 1000;
    expect(fleet.procs.every(alive)).toBe(true);
    await expectEveryWindowOnce(fleet.state(first.runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    // every tile in storage when the run was enqueued again was kept as it was
    expect(rewritten(first.runId, tilesAtEnqueue)).toEqual([]);
    const counts = inferences(fleet);
    for (const id of tilesAtEnqueue.keys()) expect([id, counts.get(id)]).toEqual([id, 1]);
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id).sort();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(WINDOWS + twice.length);
    figures.push(
      `Redis wiped at ${atWipe.done}/${WINDOWS} done: ${tilesAtEnqueue.size} tiles in storage at the re-enqueue, ${reconciled.reconciled.windowsRestored} window(s) restored from them ` +
        `(the others completed into the empty Redis by workers finishing what they held), ` +
        `${again.submitted} enqueued again; ${total} inferences in all (${twice.length} window(s) twice: in a worker's hands at the wipe [${twice.join(' ')}]); ` +
        `run finished ${finishedAfter.toFixed(1)} s after the wipe (whole run ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }, 180_000);
  it('Redis wiped during the merges, then the same fleet enqueue: recorded blocks are not merged again, the rest are, nothing is inferred again', async () => {
    const fleet = scenario('redis-wipe-merging');
    const first = await fleet.enqueue(runArgs(fx, out));
    fleet.start('worker', { LOG_LEVEL: 'debug' });
    fleet.start('worker', { LOG_LEVEL: 'debug' });
    await fleet.waitFor(first.runId, (p) => p.done === WINDOWS);
    // the merger starts once every window is done, and Redis goes as soon as it has merged a block
    const merger = fleet.start('merger');
    const atWipe = await fleet.waitFor(first.runId, (p) => p.blocksMerged >= 1);
    const wipedAt = Date.now();
    await restartRedis(await killRedis(), true);
    await sleep(1000);

    // what storage says at the re-enqueue: block records, and the block files they name
    const recordsDir = join(out, '_work', first.runId, 'blocks');
    const recorded = readdirSync(recordsDir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
    const blockFile = (id: string) => {
      const st = statSync(join(out, 'runs', first.runId, 'blocks', `${id}.tif`), { bigint: true });
      return `${st.ino}:${st.mtimeNs}`;
    };
    const filesAtEnqueue = new Map(recorded.map((id) => [id, blockFile(id)]));
    const tilesAtEnqueue = tileFiles(first.runId);
    expect(tilesAtEnqueue.size).toBe(WINDOWS);
    const again = await fleet.enqueue(runArgs(fx, out));
    const reconciled = (again as typeof again & { reconciled: { records: number; windowsRestored: number; mergesEnqueued: number; finalizeEnqueued: boolean } }).reconciled;
    expect(again).toMatchObject({ runId: first.runId, created: true, submitted: 0, alreadyDone: WINDOWS });
    // (a merge the merger was in at the wipe may have recorded its block since the listing above)
    expect(reconciled.records).toBeGreaterThanOrEqual(recorded.length);

    await fleet.waitFor(first.runId, (p) => p.status === 'done', 120_000);
    expect(alive(merger)).toBe(true);
    await expectEveryWindowOnce(fleet.state(first.runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    // blocks recorded in storage kept their files; no tile rewritten, each window inferred once
    expect(recorded.map((id) => [id, blockFile(id)])).toEqual([...filesAtEnqueue]);
    expect(rewritten(first.runId, tilesAtEnqueue)).toEqual([]);
    expect([...inferences(fleet).values()]).toEqual(Array.from({ length: WINDOWS }, () => 1));
    figures.push(
      `Redis wiped with ${atWipe.blocksMerged}/4 blocks merged: ${reconciled.records} block record(s) in storage at the re-enqueue, 0 windows enqueued, ` +
        `${reconciled.mergesEnqueued} merge(s)${reconciled.finalizeEnqueued ? ' and the finalisation' : ''} enqueued; recorded blocks not merged again; ` +
        `run finished ${((Date.now() - wipedAt) / 1000).toFixed(1)} s after the wipe`,
    );
  }, 180_000);
});
