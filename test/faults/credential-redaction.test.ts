import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger, rootLoggerOptions } from '../../packages/logging/src';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
import { runFleet } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { startS3Server, type S3TestServer } from '../support/s3-server';

const KEY_ID = 'AKIAFLEETTESTKEY0001';
const SECRET = 'fleet/secret+key/never-in-logs-0001';

/**
 * A real S3 error (s3rver refuses an unknown access key) logged the way a careless handler
 * would log it, whole: the secret key must not reach the log line, nor the key id.
 */
describe('S3 client errors in logs', () => {
  let server: S3TestServer;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    server = await startS3Server();
    await server.bucket('fleet');
    for (const [name, value] of Object.entries({ AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: 'us-east-1' })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server.stop();
  });

  it('logs the failure without the credentials', async () => {
    const store = new S3Store('s3://fleet/out', { ...s3OptionsFromEnv(server.env), maxAttempts: 1 });
    const error = await store.put('a.tile', Buffer.from('x')).then(() => undefined, (e: unknown) => e);
    await store.close();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('InvalidAccessKeyId');

    const chunks: string[] = [];
    const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
    const log = createLogger('worker', pino(rootLoggerOptions('info'), stream));
    log.error({ err: error, error }, 'upload failed');
    const line = chunks.join('');
    expect(line).toContain('InvalidAccessKeyId');
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain(KEY_ID);
  });
});

/**
 * The same refusal met by the real CLI processes, on every path that touches S3 before a run
 * starts: the output's write probe (`fleet run`, `fleet enqueue`), the input scan, and
 * `fleet prepare`'s listing. Debug logs on: every output and log file is searched for the key
 * id and the secret.
 */
describe('S3 authentication failures in the CLI', () => {
  let server: S3TestServer;
  let root: string;

  beforeAll(async () => {
    server = await startS3Server();
    await server.bucket('fleet');
    root = mkdtempSync(join(tmpdir(), 'fleet-s3-secrets-'));
  });

  afterAll(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('exits with one line naming InvalidAccessKeyId; neither the key id nor the secret is printed or logged', async () => {
    const mosaic = await writeStackMosaic(join(root, 'stack'), 1, 1, 200, 200);
    writePerPixelModel(join(root, 'model'), 3);
    const logs = join(root, 'logs');
    mkdirSync(logs);
    const env = (name: string) => ({
      ...server.env,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET,
      REDIS_URL: testRedisUrl(),
      FLEET_QUEUE_PREFIX: uniquePrefix('s3secrets'),
      LOG_LEVEL: 'debug',
      LOG_FILE: join(logs, `${name}.log`),
      TMPDIR: root,
    });
    const model = join(root, 'model');
    const cases: Array<[string, string[], number, RegExp]> = [
      ['run-out', ['run', '--stack', mosaic.dir, '--model', model, '--out', 's3://fleet/out'], 2, /^fleet run: --out s3:\/\/fleet\/out is not writable: InvalidAccessKeyId: /],
      ['enqueue-out', ['enqueue', '--stack', mosaic.dir, '--model', model, '--out', 's3://fleet/out'], 2, /^fleet enqueue: --out s3:\/\/fleet\/out is not writable: InvalidAccessKeyId: /],
      ['enqueue-in', ['enqueue', '--stack', 's3://fleet/stack', '--model', model, '--out', join(root, 'out')], 1, /^fleet enqueue: .*(Access Key|InvalidAccessKeyId)/],
      ['prepare', ['prepare', '--src', 's3://fleet/jp2', '--out', join(root, 'cogs')], 1, /^fleet prepare: .*(Access Key|InvalidAccessKeyId)/],
    ];
    const texts: string[] = [];
    for (const [name, args, code, line] of cases) {
      const r = await runFleet(args, env(name));
      const lines = r.stderr.split('\n').filter((l) => /^fleet /.test(l));
      expect([name, r.code, lines.length]).toEqual([name, code, 1]);
      expect(lines[0]).toMatch(line);
      texts.push(r.stdout, r.stderr);
    }
    texts.push(...readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')));
    const all = texts.join('\n');
    expect(all).toContain('InvalidAccessKeyId');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(KEY_ID);
  }, 120_000);
});
