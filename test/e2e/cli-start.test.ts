import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { RunState, runKeys } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { syntheticRunSpec } from '../support/run-spec-fixture';

const MAIN = join(__dirname, '..', '..', 'apps', 'cli', 'dist', 'main.js');

interface Loaded {
  code: number;
  onnxruntime: boolean;
  /** BullMQ beyond its dependency-free QueueKeys file (which fleet status takes its key names from). */
  bullmq: boolean;
  awsSdk: boolean;
  zod: boolean;
  pino: boolean;
  modules: number;
}

/**
 * Runs the built CLI's main in a fresh node and reports which heavy modules ended up in
 * require.cache (dynamic import() of CommonJS modules lands there too).
 */
function loaded(args: string[], env: Record<string, string> = {}): Loaded & { stdout: string; stderr: string } {
  const script = `
    const main = require(${JSON.stringify(MAIN)}).main;
    main(${JSON.stringify(args)}).then((code) => {
      const keys = Object.keys(require.cache);
      const has = (s) => keys.some((k) => k.includes(s));
      const bullmq = keys.some((k) => k.includes('/bullmq/') && !k.endsWith('/bullmq/dist/cjs/classes/queue-keys.js'));
      process.stderr.write('\\n' + JSON.stringify({ code, onnxruntime: has('/onnxruntime-node/'), bullmq, awsSdk: has('/@aws-sdk/'), zod: has('/zod/'), pino: has('/pino/'), modules: keys.length }) + '\\n');
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env }, encoding: 'utf8', timeout: 60_000 });
  const lines = r.stderr.trim().split('\n');
  return { ...(JSON.parse(lines.at(-1) ?? '') as Loaded), stdout: r.stdout, stderr: lines.slice(0, -1).join('\n').trim() };
}

describe('fleet start: a command loads only what it uses (issue 11)', () => {
  it('fleet --help and fleet <cmd> --help load no command: no onnxruntime, BullMQ or AWS SDK', () => {
    for (const args of [['--help'], ['worker', '--help'], ['run', '--help'], ['status', '--help'], ['board', '--help']]) {
      const r = loaded(args);
      expect([args.join(' '), r.code, r.onnxruntime, r.bullmq, r.awsSdk]).toEqual([args.join(' '), 0, false, false, false]);
      expect(r.stdout).toMatch(/^fleet[ :]/);
    }
  });

  it('fleet status loads neither BullMQ, zod, pino nor onnxruntime; fleet worker loads onnxruntime (the check sees it)', () => {
    const status = loaded(['status'], {});
    expect([status.code, status.onnxruntime]).toEqual([2, false]);
    const status2 = loaded(['status', 'some-run'], { REDIS_URL: 'redis://127.0.0.1:1', FLEET_REDIS_CONNECT_TIMEOUT_MS: '200' });
    // nor the AWS SDK: it only talks to REDIS_URL (require-redis-url.ts, not redis-for-cli.ts)
    expect([status2.code, status2.bullmq, status2.zod, status2.pino, status2.onnxruntime, status2.awsSdk]).toEqual([1, false, false, false, false, false]);
    // control: the worker's own module tree does hold onnxruntime (it is refused at start here)
    const worker = loaded(['worker'], { REDIS_URL: 'redis://127.0.0.1:1', FLEET_PROVIDER: 'cuda' });
    expect([worker.code, worker.onnxruntime, worker.bullmq, worker.zod]).toEqual([2, true, true, true]);
    // the board loads Bull Board and BullMQ, never onnxruntime or the AWS SDK (refused here: no token off loopback)
    const board = loaded(['board', '--host', '0.0.0.0'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect([board.code, board.onnxruntime, board.awsSdk]).toEqual([2, false, false]);
  });

  it('fleet status answers a real run in every mode without BullMQ or zod; zod only to word a bad environment', async () => {
    const redis = createRedisConnection(testRedisUrl());
    const prefix = uniquePrefix('cli-start');
    try {
      const spec = syntheticRunSpec({ runId: 'start-1', width: 1300, height: 900 });
      const state = new RunState(redis, prefix, spec.runId);
      await state.init(spec, new Map([['all', spec.windowCount]]));
      await state.completeWindow(0, 'r0-c0', 'done', ['all']);
      const env = { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix };
      const json = loaded(['status', spec.runId], env);
      expect([json.code, json.bullmq, json.zod, json.pino, json.stderr]).toEqual([0, false, false, false, '']);
      expect(JSON.parse(json.stdout)).toMatchObject({ runId: 'start-1', windows: spec.windowCount, done: 1, pending: spec.windowCount - 1 });
      const oneline = loaded(['status', spec.runId, '--oneline'], env);
      expect([oneline.code, oneline.bullmq, oneline.zod, oneline.pino]).toEqual([0, false, false, false]);
      expect(oneline.stdout).toMatch(/^start-1 running 1\/\d+ windows /);
      for (let i = 1; i < spec.windowCount; i++) await state.completeWindow(i, `w${i}`, 'done', ['all']);
      await state.completeBlock({ blockId: 'all', key: 'k', bytes: 1, classPixels: {}, failedWindows: 0, mergeMs: 1 });
      expect(await state.finish({}, spec.windowCount)).toEqual({ windows: 0, blocks: 0 });
      // a finished run: --watch draws once and ends
      const watch = loaded(['status', spec.runId, '--watch'], env);
      expect([watch.code, watch.bullmq, watch.zod, watch.pino]).toEqual([0, false, false, false]);
      expect(watch.stdout).toMatch(new RegExp(`^start-1 done ${spec.windowCount}/${spec.windowCount} windows `));
      // a spec that is not one: said as such (exit 1), not taken for an unreachable Redis
      await redis.set(runKeys(prefix, 'start-bad').spec, JSON.stringify({ ...spec, runId: 'start-bad', windowCount: 'many' }));
      const unreadable = loaded(['status', 'start-bad'], env);
      expect([unreadable.code, unreadable.stderr]).toEqual([1, 'fleet status: run start-bad: its spec in Redis is not a run spec: windowCount must be an integer >= 1, got "many"']);
      // the rare path: a bad prefix is worded by the shared zod schema, as every component words it
      const bad = loaded(['status', spec.runId], { ...env, FLEET_QUEUE_PREFIX: 'a:b' });
      expect([bad.code, bad.zod, bad.stderr]).toEqual([1, true, expect.stringContaining('invalid environment: FLEET_QUEUE_PREFIX: letters, digits, _ and - only')]);
    } finally {
      redis.disconnect();
    }
  });
});
