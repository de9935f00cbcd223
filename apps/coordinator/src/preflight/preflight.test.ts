import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePerPixelModel } from '../../../../test/support/model-fixture';
import { startS3Server, type S3TestServer } from '../../../../test/support/s3-server';
import { freePort } from '@fleet/redis';
import { checkModel } from './model-check';
import { checkOutputWritable } from './output-check';
import { checkRedis } from './redis-check';
import { missingSources } from './source-check';
import { PreflightError } from './preflight-error';
import { parsePreflightEnv } from './preflight-env';
import { testRedisUrl } from '../../../../test/support/redis';

/** The AWS SDK takes credentials from process.env only: set them there for the call. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function failure(p: Promise<unknown>): Promise<PreflightError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PreflightError);
  return err as PreflightError;
}

/** chattr +i works as root on ext4 and friends: a folder even root cannot write into. */
function immutableFolder(path: string): boolean {
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    return true;
  } catch {
    chmodSync(path, 0o555);
    return process.getuid?.() !== 0;
  }
}

describe('preflight checks', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'preflight-'))));
  afterAll(() => {
    try {
      execFileSync('chattr', ['-i', join(root, 'immutable')], { stdio: 'ignore' });
    } catch {
      // not made immutable
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('names a local source that does not exist', async () => {
    mkdirSync(join(root, 'rgb'));
    expect(await missingSources({ rgb: join(root, 'rgb'), irc: '/nope', elevation: 's3://b/e' })).toEqual(['--irc /nope: no such file or folder']);
    expect(await missingSources({ stack: join(root, 'rgb', 'x.tif', 'y') })).toEqual([`--stack ${join(root, 'rgb', 'x.tif', 'y')}: no such file or folder`]);
  });

  it('writes and removes a probe in a writable output, creating it', async () => {
    const out = join(root, 'out', 'nested');
    await checkOutputWritable(out);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses /proc/x, a path under a file and an immutable folder, with the reason, without hanging', async () => {
    expect((await failure(checkOutputWritable('/proc/x'))).message).toBe(
      "--out /proc/x is not writable: ENOENT: no such file or directory, mkdir '/proc/x'; give a folder this user can write",
    );
    writeFileSync(join(root, 'afile'), 'x');
    expect((await failure(checkOutputWritable(join(root, 'afile', 'sub')))).message).toMatch(/^--out \S+afile\/sub is not writable: ENOTDIR: \S+afile is a file, not a folder; give a folder/);
    const immutable = join(root, 'immutable');
    if (immutableFolder(immutable)) {
      const err = await failure(checkOutputWritable(immutable));
      expect(err.message).toMatch(/^--out \S+immutable is not writable: (EPERM|EACCES): .*open '\S+immutable\/\.fleet-tmp-\S+\.probe'; give a folder this user can write$/);
      expect(err.exitCode).toBe(2);
    }
    expect(existsSync('/proc/x')).toBe(false);
  });

  describe('on S3', () => {
    let server: S3TestServer;
    beforeAll(async () => {
      server = await startS3Server();
      await server.bucket('maps');
    });
    afterAll(() => server.stop());

    it('writes and removes a probe with good credentials', async () => {
      await withEnv(server.env, () => checkOutputWritable('s3://maps/run', server.env));
      expect(server.requests.map((r) => r.method)).toEqual(['PUT', 'DELETE']);
    });

    it('names an unknown key id without printing the key id or the secret', async () => {
      const env = { ...server.env, AWS_ACCESS_KEY_ID: 'AKIAPREFLIGHTKEY0001', AWS_SECRET_ACCESS_KEY: 'preflight/secret+0001' };
      const err = await withEnv(env, () => failure(checkOutputWritable('s3://maps/run', env)));
      expect(err.message).toMatch(/^--out s3:\/\/maps\/run is not writable: InvalidAccessKeyId: .+; check the bucket, S3_ENDPOINT and the AWS credentials$/);
      expect(err.message).not.toContain('AKIAPREFLIGHTKEY0001');
      expect(err.message).not.toContain('preflight/secret+0001');
    });

    it('names a bucket that does not exist and an endpoint where nothing listens', async () => {
      expect((await withEnv(server.env, () => failure(checkOutputWritable('s3://nobucket/run', server.env)))).message).toMatch(/^--out s3:\/\/nobucket\/run is not writable: NoSuchBucket/);
      const port = await freePort();
      const env = { ...server.env, S3_ENDPOINT: `http://127.0.0.1:${port}` };
      expect((await withEnv(env, () => failure(checkOutputWritable('s3://maps/run', env)))).message).toMatch(
        new RegExp(`^--out s3://maps/run is not writable: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
      );
    });
  });

  it('loads a good model, and refuses a garbage model.onnx once, naming it and the fix', async () => {
    const dir = join(root, 'model');
    writePerPixelModel(dir, 3);
    const warnings: string[] = [];
    await checkModel(dir, 'cpu', (m) => warnings.push(m));
    expect(warnings).toEqual([]);

    writeFileSync(join(dir, 'model.onnx'), Buffer.from('this is not an onnx file at all, just bytes'));
    const err = await failure(checkModel(dir, 'cpu', () => {}));
    expect(err.message).toMatch(new RegExp(`^model ${join(dir, 'model.onnx')} cannot be loaded: not a valid ONNX model \\(.+\\); re-export it with tools/flair-export$`));
    expect(err.exitCode).toBe(2);

    writeFileSync(join(dir, 'model.json'), '{ "name": ');
    expect((await failure(checkModel(dir, 'cpu', () => {}))).message).toMatch(new RegExp(`^model ${dir} cannot be used: ${join(dir, 'model.json')}: invalid JSON`));
  });

  it('parses its environment once, naming a bad variable', () => {
    expect(parsePreflightEnv({})).toEqual({ FLEET_REDIS_CONNECT_TIMEOUT_MS: 5_000, FLEET_PROVIDER: 'cpu' });
    expect(parsePreflightEnv({ FLEET_REDIS_CONNECT_TIMEOUT_MS: '800', FLEET_PROVIDER: 'cuda' })).toEqual({ FLEET_REDIS_CONNECT_TIMEOUT_MS: 800, FLEET_PROVIDER: 'cuda' });
    expect(parsePreflightEnv({ FLEET_PROVIDER: 'cuda', FLEET_PROVIDER_FALLBACK: 'cpu' })).toMatchObject({ FLEET_PROVIDER: 'cuda', FLEET_PROVIDER_FALLBACK: 'cpu' });
    expect(() => parsePreflightEnv({ FLEET_PROVIDER_FALLBACK: 'cuda' })).toThrow(/^invalid environment: FLEET_PROVIDER_FALLBACK: /);
    expect(() => parsePreflightEnv({ FLEET_PROVIDER: 'gpu' })).toThrow(/^invalid environment: FLEET_PROVIDER: /);
    expect(() => parsePreflightEnv({ FLEET_REDIS_CONNECT_TIMEOUT_MS: 'soon' })).toThrow(PreflightError);
  });

  it('a provider this machine lacks is refused (exit 2) unless FLEET_PROVIDER_FALLBACK=cpu, then a warning naming it', async () => {
    const dir = join(root, 'model-cuda');
    writePerPixelModel(dir, 4);
    const warnings: string[] = [];
    const refused = await checkModel(dir, 'cuda', (m) => warnings.push(m)).then(
      () => undefined,
      (err: unknown) => err as PreflightError,
    );
    // on a machine with CUDA the model simply loads there, without a warning
    if (refused !== undefined) {
      expect(refused).toBeInstanceOf(PreflightError);
      expect([refused.exitCode, refused.message.split('\n').length]).toEqual([2, 1]);
      expect(refused.message).toMatch(/^FLEET_PROVIDER=cuda cannot be loaded on this machine; set FLEET_PROVIDER_FALLBACK=cpu to let workers without it run on the CPU \(execution provider cuda cannot be loaded on this machine and no fallback is allowed \(.+\)\)$/);
    }
    expect(warnings).toEqual([]);
    await checkModel(dir, 'cuda', (m) => warnings.push(m), 'cpu');
    if (refused !== undefined) expect(warnings.some((w) => /^FLEET_PROVIDER=cuda is not available on this machine \(the model loads on cpu\)/.test(w))).toBe(true);
  });

  it('reaches a live Redis; an unreachable one fails with exit code 1 and the password redacted', async () => {
    await checkRedis(testRedisUrl(), 5_000);
    const port = await freePort();
    const err = await failure(checkRedis(`redis://:pw-never-shown@127.0.0.1:${port}`, 5_000));
    expect([err.exitCode, err.message]).toEqual([1, `cannot reach Redis at redis://:redacted@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}; check REDIS_URL`]);
  });
});
