/**
 * `fleet run`'s lifecycle with real processes: one writer per output (a second run on a live
 * output is refused), SIGINT/SIGTERM stop everything it started and keep its progress, the
 * same command resumes, and failures after enqueueing end the run instead of a wait for ever.
 */
import { publishedReport } from '../support/published';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetQueues } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { differingBlocks, readBlocks, sleep } from '../faults/fleet-harness';
import { runFleet, startFleet, type FleetProcess } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';

/** Processes whose parent is `pid`, and theirs (from /proc). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing paren
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Mask tiles written so far under a local output (each is one window done). */
function tileCount(out: string): number {
  const work = join(out, '_work');
  if (!existsSync(work)) return 0;
  return readdirSync(work).reduce((n, run) => {
    const tiles = join(work, run, 'tiles');
    return n + (existsSync(tiles) ? readdirSync(tiles).filter((f) => f.endsWith('.tile')).length : 0);
  }, 0);
}

async function until(what: string, p: FleetProcess, cond: () => boolean, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`${what}: not reached (exit ${p.child.exitCode})\n${p.stderr()}`);
    await sleep(50);
  }
}

/**
 * `fleet` as a terminal runs it: the leader of its own process group, so a Ctrl-C (SIGINT to
 * the whole foreground group) can be imitated with kill(-pid).
 */
const startInOwnGroup = (args: string[], env: Record<string, string>): FleetProcess => startFleet(args, env, { detached: true });

/** stderr without the progress bar's occasional "windows ..." lines. */
const messages = (stderr: string) => stderr.split('\n').filter((l) => l.trim() !== '' && !/^windows [-=]+ \d+\/\d+ /.test(l));

describe('fleet run lifecycle', () => {
  let root: string;
  let mosaic: StackFixture;
  let model: string;
  const logDirs: string[] = [];
  const started: FleetProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-lifecycle-'));
    mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 400, 400);
    model = join(root, 'model');
    writePerPixelModel(model, 13);
  });

  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(started.map((p) => p.exited));
    for (const d of logDirs) rmSync(d, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  /** 800 x 800 px with --overlap 448 (a 64 px step): 36 windows, 4 blocks. */
  const args = (out: string) => ['run', '--stack', mosaic.dir, '--model', model, '--out', out, '--overlap', '448', '--workers', '1'];
  /** No REDIS_URL: each `fleet run` starts its own private redis-server. One window at a time. */
  const privateEnv = (tmp: string): Record<string, string> => {
    mkdirSync(tmp, { recursive: true });
    return { TMPDIR: tmp, FLEET_BATCH_SIZE: '1', FLEET_CONCURRENCY: '1', FLEET_THREADS: '1', LOG_LEVEL: 'info' };
  };
  const keepLogDir = (text: string) => {
    const m = /(\S*fleet-logs\/run-[0-9a-f]+)/.exec(text);
    if (m) logDirs.push(m[1]!);
  };

  it('refuses a second run on a live output, stops cleanly on SIGINT and SIGTERM, and resumes to the same map', async () => {
    // the reference: an uninterrupted run into the same folder (the run id, stamped into
    // each block, depends on the output), its blocks kept, the folder emptied
    const out = join(root, 'out');
    let t = Date.now();
    const ref = await runFleet(args(out), privateEnv(join(root, 'tmp-ref')));
    keepLogDir(ref.stdout);
    expect([ref.code, ref.stderr]).toEqual([0, expect.any(String)]);
    const refSeconds = (Date.now() - t) / 1000;
    expect(ref.stdout).not.toContain('resumed:');
    expect(existsSync(join(out, '_fleet'))).toBe(false); // state and lease gone after a complete run
    const reference = readBlocks(out);
    rmSync(out, { recursive: true });

    const tmpA = join(root, 'tmp-a');
    const a = startInOwnGroup(args(out), privateEnv(tmpA));
    started.push(a);
    await until('3 windows done', a, () => tileCount(out) >= 3);
    const children = descendants(a.child.pid!);
    expect(children.map(commandOf).some((c) => c.includes('redis-server'))).toBe(true);
    expect(children.map(commandOf).some((c) => c.includes('fleet.js worker'))).toBe(true);

    // hold A mid-run while B plans (seconds under load): pause its windows queue, in its
    // private Redis, so its worker takes no new window
    const privateUrl = /started a private redis-server at (redis:\/\/[^,\s]+)/.exec(a.stderr())![1]!;
    const connection = createRedisConnection(privateUrl);
    const queuesA = new FleetQueues(connection, 'fleet');
    await queuesA.infer.pause();

    // a second fleet run on the same output: refused, naming the live holder
    const b = await runFleet(args(out), privateEnv(join(root, 'tmp-b')));
    expect(b.code).toBe(2);
    expect(messages(b.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^fleet run: refused: ${out} is being written by run run-[0-9a-f]+ \\(host [^,]+, pid ${a.child.pid}, since \\S+, lease valid until \\S+\\): wait for it to finish or stop it`)),
    ]);
    expect(a.child.exitCode).toBeNull(); // the refused run touched nothing of the live one's

    await queuesA.infer.resume();
    await queuesA.close();
    connection.disconnect();
    t = Date.now();
    process.kill(-a.child.pid!, 'SIGINT'); // Ctrl-C on a terminal: the whole process group
    expect(await a.exited).toBe(130);
    const stopASeconds = (Date.now() - t) / 1000;
    keepLogDir(a.stderr());
    const stopA = messages(a.stderr()).at(-1)!;
    const doneA = Number(/after (\d+)\/36 windows done \(0 before this command\), \d\/4 blocks merged; progress is kept in \S+\/_fleet\/redis: run the same command to resume \(logs in \S+\)$/.exec(stopA)?.[1]);
    expect(doneA).toBeGreaterThanOrEqual(3);
    expect(doneA).toBeLessThan(36);
    expect(stopA.startsWith('fleet run: interrupted by SIGINT after')).toBe(true);
    // nothing left behind: no worker, no redis-server, no temp folder, no lease
    expect(children.filter(alive)).toEqual([]);
    // (onnxruntime itself leaves an empty mat-debug-<pid>.log and a .ses file in the temp
    // folder of every process that loads it: not the fleet's, so not counted here)
    expect(readdirSync(tmpA).filter((f) => f !== 'fleet-logs' && !/^mat-debug-\d+\.log$/.test(f) && f !== '.ses')).toEqual([]);
    expect(existsSync(join(out, '_fleet', 'lease.json'))).toBe(false);
    expect(existsSync(join(out, '_fleet', 'redis'))).toBe(true);

    // the same command: resumes, then SIGTERM once it has done a window more
    const c = startFleet(args(out), privateEnv(join(root, 'tmp-c')));
    started.push(c);
    await until('resumed', c, () => c.stderr().includes('resuming run'));
    expect(c.stderr()).toMatch(new RegExp(`resuming run run-[0-9a-f]+: ${doneA} window\\(s\\) already done, ${36 - doneA} to do`));
    const tilesAtResume = tileCount(out);
    await until('one window more', c, () => tileCount(out) > tilesAtResume);
    const childrenC = descendants(c.child.pid!);
    t = Date.now();
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(143);
    const stopCSeconds = (Date.now() - t) / 1000;
    const doneC = Number(new RegExp(`^fleet run: interrupted by SIGTERM after (\\d+)/36 windows done \\(${doneA} before this command\\)`).exec(messages(c.stderr()).at(-1)!)?.[1]);
    expect(doneC).toBeGreaterThan(doneA);
    expect(childrenC.filter(alive)).toEqual([]);

    // and once more, to the end: the windows already done are not inferred again
    const d = await runFleet(args(out), privateEnv(join(root, 'tmp-d')));
    keepLogDir(d.stdout);
    expect(d.code).toBe(0);
    const resumed = Number(/^resumed: (\d+) of 36 windows were already done/m.exec(d.stdout)?.[1]);
    expect(resumed).toBeGreaterThanOrEqual(doneC);
    expect(differingBlocks(reference, readBlocks(out))).toEqual([]);
    expect(publishedReport(out)).toMatchObject({ complete: true, windows: { total: 36, done: 36, failed: 0 } });
    expect(existsSync(join(out, '_fleet'))).toBe(false);
    console.log(
      `lifecycle: reference ${refSeconds.toFixed(1)} s; SIGINT at ${doneA}/36 -> exit 130 in ${stopASeconds.toFixed(1)} s, ${children.length} child processes gone; ` +
        `SIGTERM at ${doneC}/36 -> exit 143 in ${stopCSeconds.toFixed(1)} s; last run resumed with ${resumed}/36 done; blocks byte-identical`,
    );
  }, 300_000);

  it('exits 1 naming the block when a merge fails for good, and fleet status reports it', async () => {
    const out = join(root, 'out-unwritable');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'runs'), 'a file where the runs folder goes: every block write fails');
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('merge-fails'), FLEET_THREADS: '1', LOG_LEVEL: 'info' };
    const t = Date.now();
    const r = await runFleet(args(out), env);
    const seconds = (Date.now() - t) / 1000;
    keepLogDir(r.stderr);
    expect(r.code).toBe(1);
    const lines = messages(r.stderr);
    console.log(`lifecycle: merge failed for good -> exit 1 after ${seconds.toFixed(1)} s: ${lines[0]}`);
    expect(lines).toEqual([expect.stringMatching(/^fleet run: block \S+ failed for good: .+; logs in \S+fleet-logs\/run-[0-9a-f]+; no map is published in this output yet$/)]);
    expect(existsSync(join(out, '_fleet', 'lease.json'))).toBe(false);

    const runId = /fleet-logs\/(run-[0-9a-f]+);/.exec(lines[0]!)![1]!;
    const status = await runFleet(['status', runId], env);
    const parsed = JSON.parse(status.stdout) as { status: string; runFailures: Record<string, string> };
    expect(parsed.status).toBe('failed');
    expect(Object.keys(parsed.runFailures)[0]).toMatch(/^block \S+$/);

    // the cause fixed, the same command tries the failed merges again and finishes
    rmSync(join(out, 'runs'));
    const again = await runFleet(args(out), env);
    expect([again.code, messages(again.stderr)]).toEqual([0, [expect.stringMatching(/^resuming run /)]]);
    expect(publishedReport(out)).toMatchObject({ runId, complete: true, windows: { total: 36, done: 36 } });
    expect(JSON.parse((await runFleet(['status', runId], env)).stdout)).toMatchObject({ status: 'done', runFailures: {} });
  }, 240_000);

  it('stops with exit 1 when another holder took its output lease over', async () => {
    const prefix = uniquePrefix('lease-lost');
    const connection = createRedisConnection(testRedisUrl());
    const queues = new FleetQueues(connection, prefix);
    await queues.infer.pause(); // the run waits, holding its lease
    try {
      const out = join(root, 'out-taken');
      const p = startFleet(args(out), { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix, FLEET_THREADS: '1' });
      started.push(p);
      const lease = join(out, '_fleet', 'lease.json');
      // past the lease's acquisition (and its read-back check) once the windows are queued
      let queued = 0;
      await until('windows queued', p, () => {
        void queues.infer.getJobCounts('paused', 'wait').then((c) => (queued = (c.paused ?? 0) + (c.wait ?? 0)));
        return queued > 0;
      });
      expect(existsSync(lease)).toBe(true);
      // what a run elsewhere that judged the lease expired would write
      const far = new Date(Date.now() + 3_600_000).toISOString();
      const foreign = JSON.stringify({ host: 'elsewhere', pid: 1, runId: 'run-other', since: far, renewedAt: far, expiresAt: far, token: 'foreign' });
      writeFileSync(lease, foreign);
      expect(await p.exited).toBe(1); // at its next renewal (every 10 s)
      keepLogDir(p.stderr());
      expect(messages(p.stderr())).toEqual([
        expect.stringMatching(new RegExp(`^fleet run: stopped: run run-other \\(host elsewhere, pid 1\\) took over the output's lease; this run no longer owns ${out} \\(logs in \\S+\\); no map is published in this output yet$`)),
      ]);
      expect(readFileSync(lease, 'utf8')).toBe(foreign); // the new holder's lease is left alone
    } finally {
      await queues.close();
      connection.disconnect();
    }
  }, 120_000);

  it('exits 1 with the queue counts when nothing progresses and no job is active', async () => {
    const prefix = uniquePrefix('stall');
    const connection = createRedisConnection(testRedisUrl());
    const queues = new FleetQueues(connection, prefix);
    // a paused windows queue: the jobs wait, no worker takes one, nothing will ever move
    await queues.infer.pause();
    try {
      const out = join(root, 'out-stalled');
      const t = Date.now();
      const r = await runFleet(args(out), { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix, FLEET_THREADS: '1', FLEET_RUN_STALL_S: '3' });
      keepLogDir(r.stderr);
      console.log(`lifecycle: stalled (FLEET_RUN_STALL_S=3) -> exit ${r.code} after ${((Date.now() - t) / 1000).toFixed(1)} s`);
      expect(r.code).toBe(1);
      expect(messages(r.stderr)).toEqual([
        expect.stringMatching(
          /^fleet run: no progress for 3 s and no job active \(FLEET_RUN_STALL_S\): 36 window\(s\) pending, 0\/4 blocks merged; windows queue wait 36, active 0, delayed 0, failed 0; merge queue wait 0, active 0, delayed 0, failed 0; no failure recorded .*; logs in \S+; no map is published in this output yet$/,
        ),
      ]);
      expect(existsSync(join(out, '_fleet', 'lease.json'))).toBe(false);
    } finally {
      await queues.close();
      connection.disconnect();
    }
  }, 120_000);
});
