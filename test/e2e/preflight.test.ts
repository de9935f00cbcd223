import { publishedReport } from '../support/published';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { freePort } from '../../packages/redis/src';
import { runFleet } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { startS3Server, type S3TestServer } from '../support/s3-server';

/**
 * What `fleet run` and `fleet enqueue` check before anything is enqueued (issue 14): each
 * case runs the built CLI as a process and checks the exit code, the one line it prints, and
 * that nothing was left behind: no Redis key under the run's prefix, no process still holding
 * that prefix, nothing in the process's temp folder (where `fleet run` keeps its logs).
 */
describe('preflight: fleet run / fleet enqueue refuse before enqueueing anything', () => {
  let root: string;
  let mosaic: StackFixture;
  let model: string;
  let redis: IORedis;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-preflight-'));
    mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 200, 200);
    model = join(root, 'model');
    writePerPixelModel(model, 7);
    redis = new IORedis(testRedisUrl());
  });

  afterAll(async () => {
    redis.disconnect();
    try {
      execFileSync('chattr', ['-i', join(root, 'immutable')], { stdio: 'ignore' });
    } catch {
      // never made immutable
    }
    rmSync(root, { recursive: true, force: true });
  });

  /** One CLI call with its own queue prefix and temp folder; returns what it did and left. */
  async function fleet(args: string[], env: Record<string, string> = {}) {
    const prefix = uniquePrefix('pre');
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const result = await runFleet(args, { REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix, TMPDIR: tmp, FLEET_THREADS: '1', ...env });
    return {
      ...result,
      /** stderr without the AWS SDK's node-version notice (printed when an S3 client is made). */
      lines: result.stderr.split('\n').filter((l) => /^fleet /.test(l)),
      keys: await redis.keys(`${prefix}*`),
      running: processesWith(`FLEET_QUEUE_PREFIX=${prefix}`),
      tmpLeft: readdirSync(tmp),
    };
  }

  const run = (extra: string[]) => ['run', '--stack', mosaic.dir, '--model', model, ...extra];
  const enqueue = (extra: string[]) => ['enqueue', '--stack', mosaic.dir, '--model', model, ...extra];

  /** The common assertions of a refusal. */
  function refused(r: Awaited<ReturnType<typeof fleet>>, code: number, line: string | RegExp): void {
    expect(r.code).toBe(code);
    expect(r.lines).toHaveLength(1);
    if (typeof line === 'string') expect(r.lines[0]).toBe(line);
    else expect(r.lines[0]).toMatch(line);
    expect(r.stdout).toBe('');
    expect(r.keys).toEqual([]);
    expect(r.running).toEqual([]);
    expect(r.tmpLeft).toEqual([]);
  }

  it('--out under /proc, under a file, in an immutable folder: exit 2 naming the reason', async () => {
    refused(await fleet(run(['--out', '/proc/x'])), 2, "fleet run: --out /proc/x is not writable: ENOENT: no such file or directory, mkdir '/proc/x'; give a folder this user can write");
    expect(existsSync('/proc/x')).toBe(false);

    writeFileSync(join(root, 'afile'), 'x');
    refused(await fleet(enqueue(['--out', join(root, 'afile', 'map')])), 2,
      `fleet enqueue: --out ${join(root, 'afile', 'map')} is not writable: ENOTDIR: ${join(root, 'afile')} is a file, not a folder; give a folder this user can write`);

    const immutable = join(root, 'immutable');
    mkdirSync(immutable);
    let madeImmutable = true;
    try {
      execFileSync('chattr', ['+i', immutable], { stdio: 'ignore' });
    } catch {
      madeImmutable = false; // a file system without the attribute: nothing to test here as root
    }
    if (madeImmutable) {
      refused(await fleet(run(['--out', immutable])), 2, new RegExp(`^fleet run: --out ${immutable} is not writable: (EPERM|EACCES): .*open '${immutable}/\\.fleet-tmp-\\S+\\.probe'; give a folder this user can write$`));
    }
  });

  describe('with S3', () => {
    let s3: S3TestServer;
    beforeAll(async () => {
      s3 = await startS3Server();
      await s3.bucket('maps');
    });
    afterAll(() => s3.stop());

    it('no credentials: exit 2 with the SDK reason, nothing written to the bucket', async () => {
      // HOME without ~/.aws, no instance metadata: the provider chain finds nothing
      const env = { S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1', HOME: root, AWS_EC2_METADATA_DISABLED: 'true' };
      s3.requests.length = 0;
      refused(await fleet(run(['--out', 's3://maps/92'])), 2,
        'fleet run: --out s3://maps/92 is not writable: CredentialsProviderError: Could not load credentials from any providers; check the bucket, S3_ENDPOINT and the AWS credentials');
      expect(s3.requests).toEqual([]);
    });

    it('".." in the output prefix: exit 2 before any request', async () => {
      s3.requests.length = 0;
      refused(await fleet(enqueue(['--out', 's3://maps/a/../b'])), 2,
        'fleet enqueue: --out s3://maps/a/../b: invalid prefix: has a ".." segment; use s3://bucket/prefix with plain path segments');
      expect(s3.requests).toEqual([]);
    });
  });

  it('REDIS_URL pointing at nothing: run and enqueue exit 1 with the URL redacted, instead of hanging', async () => {
    const port = await freePort();
    const url = `redis://:never-printed-pw@127.0.0.1:${port}`;
    for (const command of ['run', 'enqueue']) {
      const r = await fleet([command, '--stack', mosaic.dir, '--model', model, '--out', join(root, `out-${command}`)], { REDIS_URL: url });
      refused(r, 1, `fleet ${command}: cannot reach Redis at redis://:redacted@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}; check REDIS_URL`);
      expect(r.stderr).not.toContain('never-printed-pw');
    }
  });

  it('a garbage model.onnx: exit 2 naming the file and the fix, no key written in Redis', async () => {
    const bad = join(root, 'bad-model');
    mkdirSync(bad);
    writeFileSync(join(bad, 'model.json'), readFileSync(join(model, 'model.json')));
    writeFileSync(join(bad, 'model.onnx'), Buffer.from('garbage, not an ONNX protobuf'.repeat(10)));
    for (const command of ['run', 'enqueue']) {
      refused(await fleet([command, '--stack', mosaic.dir, '--model', bad, '--out', join(root, 'out-bad')]), 2,
        new RegExp(`^fleet ${command}: model ${join(bad, 'model.onnx')} cannot be loaded: not a valid ONNX model \\(.+\\); re-export it with tools/flair-export$`));
    }
  });

  it('--run-id ../../escape1: exit 2, nothing created anywhere', async () => {
    const r = await fleet(run(['--out', join(root, 'out-escape'), '--run-id', '../../escape1']));
    refused(r, 2, 'fleet run: --run-id "../../escape1" is not a valid run id: 1-64 letters, digits, _ or -');
    expect(existsSync('/escape1')).toBe(false);
    expect(existsSync(join(tmpdir(), 'escape1'))).toBe(false);
    expect(findNamed(root, 'escape1')).toEqual([]);
    expect(existsSync(join(root, 'out-escape'))).toBe(false);
  });

  it('an input that does not exist: exit 2, "no such file or folder"', async () => {
    refused(await fleet(['run', '--rgb', '/nope', '--irc', mosaic.dir, '--elevation', mosaic.dir, '--model', model, '--out', join(root, 'o')]), 2, 'fleet run: --rgb /nope: no such file or folder');
    refused(await fleet(['enqueue', '--stack', join(root, 'nope.tif'), '--model', model, '--out', join(root, 'o')]), 2, `fleet enqueue: --stack ${join(root, 'nope.tif')}: no such file or folder`);
  });

  it('--overlap -5: exit 2 naming the option and the value', async () => {
    refused(await fleet(run(['--out', join(root, 'o'), '--overlap', '-5'])), 2, 'fleet run: --overlap must be an integer >= 0, got "-5"');
    refused(await fleet(['demo', '--dalles', '-2']), 2, 'fleet demo: --dalles must be an integer >= 1, got "-2"');
  });

  it('every command answers --help and -h with its usage, exit 0, without Redis and without starting anything', async () => {
    const port = await freePort();
    // --help everywhere, -h on a few (the same code path): each call is a whole CLI start
    for (const command of ['worker', 'merger', 'status', 'retry', 'preparer', 'run', 'enqueue', 'prepare', 'demo']) {
      for (const flag of ['worker', 'status', 'run'].includes(command) ? ['--help', '-h'] : ['--help']) {
        const r = await fleet([command, flag], { REDIS_URL: `redis://127.0.0.1:${port}` });
        expect([command, flag, r.code, r.stderr]).toEqual([command, flag, 0, '']);
        expect(r.stdout).toMatch(new RegExp(`^fleet ${command}\\b`));
        expect(r.running).toEqual([]);
      }
    }
    // REDIS_URL reachable: `worker --help` still only prints (a started worker would not exit)
    const r = await fleet(['worker', '--help']);
    expect([r.code, r.keys, r.running]).toEqual([0, [], []]);
    // and the usage is the worker's
    expect(r.stdout).toContain('FLEET_PROVIDER');
    // a stray argument to a long-lived part is refused rather than ignored
    const stray = await fleet(['worker', '--concurrency', '4']);
    refused(stray, 2, /^fleet worker: fleet worker takes no arguments \(got "--concurrency"\)/);
  }, 240_000);
});

describe('no silent skips: dot-named dalles are mapped', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fleet-dotnames-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('.hidden.tif and ...tif are read like any other dalle: every block is mapped', async () => {
    const mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 200, 200);
    renameSync(join(mosaic.dir, 'D-0-0.tif'), join(mosaic.dir, '.hidden.tif'));
    renameSync(join(mosaic.dir, 'D-1-1.tif'), join(mosaic.dir, '...tif'));
    writePerPixelModel(join(root, 'model'), 5);
    const out = join(root, 'out');
    const r = await runFleet(['run', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out], {
      REDIS_URL: testRedisUrl(),
      FLEET_QUEUE_PREFIX: uniquePrefix('dots'),
      FLEET_THREADS: '1',
      TMPDIR: root,
    });
    expect([r.code, r.stderr.split('\n').filter((l) => /^fleet /.test(l))]).toEqual([0, []]);
    const report = publishedReport(out);
    expect(report).toMatchObject({ complete: true });
    expect(report.blocks.map((b: { id: string }) => b.id).sort()).toEqual(['D-0-1', 'D-1-0', '__', '_hidden']);
    expect(readdirSync(join(out, 'runs', report.runId, 'blocks')).sort()).toEqual(['D-0-1.tif', 'D-1-0.tif', '__.tif', '_hidden.tif']);
    expect(report.mosaic.width).toBe(400);
  }, 120_000);
});

/** Processes whose environment holds `marker` (as root, /proc/<pid>/environ is readable). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) found.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Paths under `dir` whose name is `name`. */
function findNamed(dir: string, name: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(path);
    if (entry.isDirectory()) found.push(...findNamed(path, name));
  }
  return found;
}
