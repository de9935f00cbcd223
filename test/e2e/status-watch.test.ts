import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunState } from '../../packages/jobs/src';
import { createRedisConnection, startPrivateRedis } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { syntheticRunSpec } from '../support/run-spec-fixture';

const ONELINE = /^(\S+) (running|done|failed) (\d+)\/(\d+) windows (\d+\.\d)% (--|\d+\.\d) win\/s eta (--|\S+) blocks (\d+)\/(\d+) failed (\d+)$/;

/** Waits until `p` has printed a line matching `re` (or fails with what it printed). */
async function until(p: FleetProcess, re: RegExp, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(p.stdout())) {
    if (Date.now() > deadline || p.child.exitCode !== null) throw new Error(`no ${re} in:\n${p.stdout()}\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fleet status --oneline and --watch', () => {
  const procs: FleetProcess[] = [];
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fleet-status-'));
  });

  afterAll(async () => {
    await Promise.all(procs.map(stopFleet));
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses bad arguments with one line and exit 2, an unknown run with exit 1', async () => {
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: uniquePrefix('status-args') };
    expect(await runFleet(['status', 'r', '--interval', '2'], env)).toMatchObject({ code: 2, stderr: 'fleet status: --interval needs --watch: usage: fleet status <run-id> [--oneline] [--watch [--interval S]]\n' });
    expect(await runFleet(['status', 'r', '--watch', '--interval', '0'], env)).toMatchObject({ code: 2, stderr: 'fleet status: --interval 0: expected seconds between 0.2 and 3600\n' });
    expect((await runFleet(['status', 'r', '--follow'], env)).code).toBe(2);
    expect(await runFleet(['status', 'nope', '--watch'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^fleet status: no run nope in this Redis/) });
  });

  it('watches a real run from its first window to its end, then exits 0; --oneline says where it stands', async () => {
    const prefix = uniquePrefix('status-run');
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix, FLEET_BATCH_SIZE: '2', FLEET_THREADS: '1' };
    const mosaic = await writeStackMosaic(join(root, 'stack'), 3, 2, 400, 300, []);
    writePerPixelModel(join(root, 'model'), 7);
    const enqueued = await runFleet(['enqueue', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', join(root, 'out'), '--overlap', '128'], env);
    expect(enqueued.code).toBe(0);
    const { runId } = JSON.parse(enqueued.stdout) as { runId: string };

    const before = await runFleet(['status', runId, '--oneline'], env);
    expect(before).toMatchObject({ code: 0, stderr: '' });
    expect(before.stdout).toBe(`${runId} running 0/6 windows 0.0% -- win/s eta -- blocks 0/6 failed 0\n`);

    // stdout is a pipe here: one line per refresh, appended
    const watch = startFleet(['status', runId, '--watch', '--interval', '0.3'], env);
    procs.push(watch);
    await until(watch, /running 0\/6 windows/);
    procs.push(startFleet(['worker'], env), startFleet(['merger'], env));
    expect(await watch.exited).toBe(0);
    const lines = watch.stdout().trim().split('\n');
    for (const line of lines) expect(line).toMatch(ONELINE);
    const fields = lines.map((l) => ONELINE.exec(l)!);
    // counts only go up; the totals stay fixed
    const finished = fields.map((f) => Number(f[3]));
    expect(finished).toEqual([...finished].sort((a, b) => a - b));
    expect(fields.every((f) => f[1] === runId && f[4] === '6' && f[9] === '6')).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^${runId} done 6/6 windows 100\\.0% (--|\\d+\\.\\d) win/s eta 0s blocks 6/6 failed 0$`));
    expect(watch.stderr()).toBe('');

    const after = await runFleet(['status', runId, '--oneline'], env);
    expect(after.stdout).toMatch(new RegExp(`^${runId} done 6/6 windows 100\\.0% \\d+\\.\\d win/s eta 0s blocks 6/6 failed 0\\n$`));
    // the JSON default is unchanged
    expect(JSON.parse((await runFleet(['status', runId], env)).stdout)).toMatchObject({ runId, status: 'done', windows: 6, done: 6, pending: 0, blocksMerged: 6 });
  }, 120_000);

  it('prints failures as they happen and exits 1 when the run ends with failed windows', async () => {
    const prefix = uniquePrefix('status-fail');
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix };
    const redis = createRedisConnection(testRedisUrl());
    try {
      const state = new RunState(redis, prefix, 'run-f');
      // 1000 x 600 px: 3 x 2 windows, one block
      await state.init(syntheticRunSpec({ runId: 'run-f', width: 1000, height: 600 }), new Map([['all', 6]]));
      await state.completeWindow(0, 'r0-c0', 'done', ['all']);
      const watch = startFleet(['status', 'run-f', '--watch', '--interval', '0.2'], env);
      procs.push(watch);
      await until(watch, /run-f running 1\/6 windows/);
      await state.completeWindow(1, 'r0-c1', 'failed', ['all'], {}, 'a.tif: corrupt tile at 512,0\nat readTile');
      await until(watch, /failed: window r0-c1/);
      for (let i = 2; i < 6; i++) await state.completeWindow(i, `r${Math.floor(i / 3)}-c${i % 3}`, 'done', ['all']);
      await state.completeBlock({ blockId: 'all', key: 'k', bytes: 1, classPixels: {}, failedWindows: 1, mergeMs: 1 });
      expect(await state.finish({}, 6)).toEqual({ windows: 0, blocks: 0 });
      expect(await watch.exited).toBe(1);
      const out = watch.stdout();
      // once, with the message's first line only, before the line that counts it
      expect(out.match(/^failed: window r0-c1: a\.tif: corrupt tile at 512,0$/gm)).toHaveLength(1);
      expect(out.trim().split('\n').at(-1)).toMatch(/^run-f done 6\/6 windows 100\.0% (--|\d+\.\d) win\/s eta 0s blocks 1\/1 failed 1$/);
      expect(out.indexOf('failed: window r0-c1')).toBeLessThan(out.search(/failed 1$/m));
    } finally {
      redis.disconnect();
    }
  });

  it('exits 130 on Ctrl-C while the run goes on', async () => {
    const prefix = uniquePrefix('status-int');
    const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix };
    const redis = createRedisConnection(testRedisUrl());
    try {
      await new RunState(redis, prefix, 'run-i').init(syntheticRunSpec({ runId: 'run-i', width: 1000, height: 600 }), new Map([['all', 6]]));
      const watch = startFleet(['status', 'run-i', '--watch', '--interval', '30'], env);
      procs.push(watch);
      await until(watch, /run-i running 0\/6/);
      watch.child.kill('SIGINT');
      expect(await watch.exited).toBe(130);
      expect(await redis.get(`${prefix}:run:run-i:status`)).toBe('running');
    } finally {
      redis.disconnect();
    }
  });

  it('ends with exit 1 and one line naming the Redis when Redis goes away mid-watch', async () => {
    const redis = await startPrivateRedis();
    const connection = createRedisConnection(redis.url);
    try {
      await new RunState(connection, 'lost', 'run-l').init(syntheticRunSpec({ runId: 'run-l', width: 1000, height: 600 }), new Map([['all', 6]]));
      connection.disconnect();
      const watch = startFleet(['status', 'run-l', '--watch', '--interval', '0.2'], { REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: 'lost' });
      procs.push(watch);
      await until(watch, /run-l running 0\/6/);
      await redis.stop();
      expect(await watch.exited).toBe(1);
      expect(watch.stderr()).toMatch(new RegExp(`^fleet status: lost Redis at ${redis.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} while watching: .+\\n$`));
    } finally {
      connection.disconnect();
      await redis.stop();
    }
  });
});
