import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'apps', 'cli', 'dist', 'main.js');

/**
 * Runs the built CLI's main in a fresh node and reports which heavy modules ended up in
 * require.cache (dynamic import() of CommonJS modules lands there too).
 */
function loaded(args: string[], env: Record<string, string> = {}): { code: number; onnxruntime: boolean; bullmq: boolean; awsSdk: boolean; modules: number; stdout: string } {
  const script = `
    const main = require(${JSON.stringify(MAIN)}).main;
    main(${JSON.stringify(args)}).then((code) => {
      const keys = Object.keys(require.cache);
      const has = (s) => keys.some((k) => k.includes(s));
      process.stderr.write('\\n' + JSON.stringify({ code, onnxruntime: has('/onnxruntime-node/'), bullmq: has('/bullmq/'), awsSdk: has('/@aws-sdk/'), modules: keys.length }) + '\\n');
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env }, encoding: 'utf8', timeout: 60_000 });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  return { ...(JSON.parse(last) as { code: number; onnxruntime: boolean; bullmq: boolean; awsSdk: boolean; modules: number }), stdout: r.stdout };
}

describe('fleet start: a command loads only what it uses (issue 11)', () => {
  it('fleet --help and fleet <cmd> --help load no command: no onnxruntime, BullMQ or AWS SDK', () => {
    for (const args of [['--help'], ['worker', '--help'], ['run', '--help'], ['status', '--help'], ['board', '--help']]) {
      const r = loaded(args);
      expect([args.join(' '), r.code, r.onnxruntime, r.bullmq, r.awsSdk]).toEqual([args.join(' '), 0, false, false, false]);
      expect(r.stdout).toMatch(/^fleet[ :]/);
    }
  });

  it('fleet status loads BullMQ but not onnxruntime; fleet worker loads onnxruntime (the check sees it)', () => {
    const status = loaded(['status'], {});
    expect([status.code, status.onnxruntime]).toEqual([2, false]);
    const status2 = loaded(['status', 'some-run'], { REDIS_URL: 'redis://127.0.0.1:1', FLEET_REDIS_CONNECT_TIMEOUT_MS: '200' });
    // nor the AWS SDK: it only talks to REDIS_URL (require-redis-url.ts, not redis-for-cli.ts)
    expect([status2.bullmq, status2.onnxruntime, status2.awsSdk]).toEqual([true, false, false]);
    // control: the worker's own module tree does hold onnxruntime (it is refused at start here)
    const worker = loaded(['worker'], { REDIS_URL: 'redis://127.0.0.1:1', FLEET_PROVIDER: 'cuda' });
    expect([worker.code, worker.onnxruntime]).toEqual([2, true]);
    // the board loads Bull Board and BullMQ, never onnxruntime or the AWS SDK (refused here: no token off loopback)
    const board = loaded(['board', '--host', '0.0.0.0'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect([board.code, board.onnxruntime, board.awsSdk]).toEqual([2, false, false]);
  });
});
