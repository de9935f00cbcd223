import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

import { startS3Server, type S3TestServer } from './s3-server';

function clientFor(endpoint: string, env: Record<string, string>): S3Client {
  return new S3Client({
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function refusesConnections(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  // once() rejects when 'error' comes first: that is the refusal we are looking for.
  const outcome = await once(socket, 'connect').then(
    () => 'connected',
    () => 'refused',
  );
  socket.destroy();
  return outcome === 'refused';
}

describe('startS3Server (in process)', () => {
  let server: S3TestServer | undefined;
  let client: S3Client | undefined;

  afterEach(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('serves S3 over HTTP on 127.0.0.1 with the advertised env, then stops cleanly', async () => {
    server = await startS3Server();
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.env).toEqual({
      S3_ENDPOINT: server.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
    });

    await server.bucket('harness');
    await server.bucket('harness'); // creating twice is harmless
    client = clientFor(server.endpoint, server.env);
    await client.send(new PutObjectCommand({ Bucket: 'harness', Key: 'a/b.txt', Body: Buffer.from('hi') }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'harness', Key: 'a/b.txt' }));
    expect(await got.Body?.transformToString()).toBe('hi');
    expect(server.requests.map((request) => request.method)).toEqual(['PUT', 'GET']);

    const { port, directory } = server;
    expect(existsSync(directory)).toBe(true);
    await server.stop();
    await server.stop();
    expect(existsSync(directory)).toBe(false);
    expect(await refusesConnections(port)).toBe(true);
  });

  it('pages ListObjectsV2 (s3rver needs its DES continuation tokens on OpenSSL 3)', async () => {
    server = await startS3Server();
    await server.bucket('paged');
    client = clientFor(server.endpoint, server.env);
    for (const key of ['k1', 'k2', 'k3']) {
      await client.send(new PutObjectCommand({ Bucket: 'paged', Key: key, Body: Buffer.from(key) }));
    }
    const first = await client.send(new ListObjectsV2Command({ Bucket: 'paged', MaxKeys: 2 }));
    expect(first.Contents?.map((object) => object.Key)).toEqual(['k1', 'k2']);
    expect(first.IsTruncated).toBe(true);
    const second = await client.send(
      new ListObjectsV2Command({ Bucket: 'paged', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }),
    );
    expect(second.Contents?.map((object) => object.Key)).toEqual(['k3']);
    expect(second.IsTruncated).toBe(false);
  });
});

describe('s3-server-main.js (separate process)', () => {
  it('prints its port as JSON, serves pre-made buckets and exits on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(__dirname, 's3-server-main.js'), '--bucket', 'pre'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let client: S3Client | undefined;
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line')) as [string];
      const info = JSON.parse(line) as { port: number; endpoint: string; directory: string };
      expect(info.endpoint).toBe(`http://127.0.0.1:${info.port}`);
      expect(info.port).toBeGreaterThan(0);

      client = clientFor(info.endpoint, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
      await client.send(new PutObjectCommand({ Bucket: 'pre', Key: 'x', Body: Buffer.from('from a test') }));
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'pre' }));
      expect(listed.Contents?.map((object) => object.Key)).toEqual(['x']);
      client.destroy();
      client = undefined;

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
      expect(existsSync(info.directory)).toBe(false);
      expect(await refusesConnections(info.port)).toBe(true);
    } finally {
      client?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
