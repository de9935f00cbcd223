import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger, rootLoggerOptions } from '../../packages/logging/src';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
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
