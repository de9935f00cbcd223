import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startS3Server, type S3TestServer } from '../../../test/support/s3-server';
import { InvalidKeyError } from './object-key';
import { ObjectNotFoundError } from './object-store';
import { openStore } from './open-store';
import { s3OptionsFromEnv } from './s3-env';
import { S3Store, type S3StoreOptions } from './s3-store';
import { describeObjectStoreContract } from './test-store-contract';

const BUCKET = 'fleet-test';
const MiB = 1024 * 1024;

let server: S3TestServer;
const savedEnv: Record<string, string | undefined> = {};
/** Every store a test opens, closed after each test so no socket outlives it. */
const openStores: S3Store[] = [];

function s3Store(location: string, extra: S3StoreOptions = {}): S3Store {
  const store = new S3Store(location, { ...s3OptionsFromEnv(server.env), ...extra });
  openStores.push(store);
  return store;
}

function uniquePrefix(): string {
  return `t-${randomBytes(6).toString('hex')}`;
}

beforeAll(async () => {
  server = await startS3Server();
  await server.bucket(BUCKET);
  // The SDK takes credentials from the environment (never from store options); point it at s3rver.
  for (const [name, value] of Object.entries(server.env)) {
    savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
});

afterEach(async () => {
  await Promise.all(openStores.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server?.stop();
});

describeObjectStoreContract(
  'S3Store on s3rver',
  async () => {
    const store = s3Store(`s3://${BUCKET}/${uniquePrefix()}`);
    server.requests.length = 0;
    return { store, dispose: () => store.close() };
  },
  {
    watchReplace: false,
    afterLargePutFile: () => {
      // 67 MiB in the default 16 MiB parts: create, 5 parts, complete; never a plain PUT.
      const writes = server.requests.filter((request) => request.method === 'PUT' || request.method === 'POST');
      expect(writes.map((request) => request.method)).toEqual(['POST', 'PUT', 'PUT', 'PUT', 'PUT', 'PUT', 'POST']);
      expect(writes.slice(1, 6).every((request) => request.url.includes('partNumber='))).toBe(true);
    },
  },
);

describe('S3Store', () => {
  it('roots keys at its prefix and keeps stores with other prefixes apart', async () => {
    const run = uniquePrefix();
    const a = s3Store(`s3://${BUCKET}/${run}/a/`);
    const b = s3Store(`s3://${BUCKET}/${run}/b`);
    const bucket = s3Store(`s3://${BUCKET}`);
    expect(a.location).toBe(`s3://${BUCKET}/${run}/a`);
    expect(bucket.location).toBe(`s3://${BUCKET}`);
    expect(a.localPath('x')).toBeUndefined();

    await a.put('tiles/x.tile', Buffer.from('from a'));
    await b.put('tiles/x.tile', Buffer.from('from b'));
    expect(await bucket.list(`${run}/`)).toEqual([`${run}/a/tiles/x.tile`, `${run}/b/tiles/x.tile`]);
    expect(await a.list('')).toEqual(['tiles/x.tile']);
    expect((await bucket.get(`${run}/b/tiles/x.tile`)).toString()).toBe('from b');
    await a.delete('tiles/x.tile');
    expect(await b.list('')).toEqual(['tiles/x.tile']);
  });

  it('writes an object with one PUT and reads a range with one ranged GET', async () => {
    const prefix = uniquePrefix();
    const store = s3Store(`s3://${BUCKET}/${prefix}`);
    await store.put('one', Buffer.from('warm-up')); // credentials resolved, connection open
    server.requests.length = 0;

    await store.put('k/obj', Buffer.from('0123456789'));
    expect(server.requests.map(({ method, url }) => [method, url.split('?')[0]])).toEqual([
      ['PUT', `/${BUCKET}/${prefix}/k/obj`],
    ]);

    server.requests.length = 0;
    expect((await store.getRange('k/obj', 3, 4)).toString()).toBe('3456');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'GET', range: 'bytes=3-6' });
  });

  it('uploads a large file in parts and shows the object only once complete', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 's3-multipart-'));
    try {
      const size = 4 * 5 * MiB + 777;
      const body = randomBytes(size);
      const path = join(scratch, 'big.bin');
      await writeFile(path, body);
      const prefix = uniquePrefix();
      const store = s3Store(`s3://${BUCKET}/${prefix}`, {
        multipartThreshold: 6 * MiB,
        partSize: 5 * MiB,
        partConcurrency: 2,
      });
      const watcherStore = s3Store(`s3://${BUCKET}/${prefix}`);
      server.requests.length = 0;

      // Heads answered before the server has even received CompleteMultipartUpload must find
      // nothing. (Later ones may see a growing object: s3rver, unlike S3, assembles it in place.)
      const completeSent = (): boolean =>
        server.requests.some((request) => request.method === 'POST' && request.url.includes('uploadId='));
      let uploading = true;
      const beforeComplete: Array<number | undefined> = [];
      const watcher = (async () => {
        while (uploading) {
          const size = (await watcherStore.head('big.bin'))?.size;
          if (!completeSent()) beforeComplete.push(size);
        }
      })();
      await store.putFile('big.bin', path);
      uploading = false;
      await watcher;

      expect(beforeComplete.length).toBeGreaterThan(0);
      expect(beforeComplete.every((observed) => observed === undefined)).toBe(true);
      expect((await store.get('big.bin')).equals(body)).toBe(true);
      expect(await store.list('')).toEqual(['big.bin']);

      const writes = server.requests.filter((request) => request.method !== 'HEAD' && request.method !== 'GET');
      const objectPath = `/${BUCKET}/${prefix}/big.bin`;
      expect(writes[0]).toMatchObject({ method: 'POST', url: expect.stringContaining(`${objectPath}?uploads`) });
      const parts = writes.filter((request) => request.method === 'PUT');
      expect(parts).toHaveLength(5);
      for (const part of parts) expect(part.url).toMatch(/[?&]partNumber=[1-5]&/);
      expect(writes).toHaveLength(7);
      expect(writes[6]).toMatchObject({ method: 'POST', url: expect.stringContaining('uploadId=') });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('pages through listings longer than one ListObjectsV2 page', async () => {
    const store = s3Store(`s3://${BUCKET}/${uniquePrefix()}`);
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, Buffer.from(key))));
    }
    server.requests.length = 0;
    expect(await store.list('many/')).toEqual(keys);
    const listings = server.requests.filter((request) => request.url.includes('list-type=2'));
    expect(listings).toHaveLength(2);
    expect(listings[1]?.url).toContain('continuation-token=');
  });

  it('does not mistake a missing bucket for a missing object', async () => {
    const store = s3Store('s3://no-such-bucket/x');
    const error = await store.get('a').catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(ObjectNotFoundError);
    expect((error as Error).name).toBe('NoSuchBucket');
  });

  it('validates keys like every backend, before any request', async () => {
    const store = s3Store(`s3://${BUCKET}/${uniquePrefix()}`);
    server.requests.length = 0;
    await expect(store.put('a/../../x', Buffer.from('x'))).rejects.toThrow(
      'invalid object key "a/../../x": has a ".." segment',
    );
    await expect(store.get('/abs')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => store.localPath('a//b')).toThrow('has an empty segment');
    await expect(store.list('..')).rejects.toThrow('has a ".." segment');
    expect(server.requests).toEqual([]);
  });

  it('signs with credentials from the environment', async () => {
    // s3rver checks the access key id (it does not verify SigV4 signatures themselves).
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = 'SOMEONE-ELSE';
    try {
      const store = s3Store(`s3://${BUCKET}/${uniquePrefix()}`, { maxAttempts: 1 });
      await expect(store.put('k', Buffer.from('x'))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });

  it('gives up after maxAttempts when the server cannot be reached', async () => {
    const store = s3Store(`s3://${BUCKET}`, { endpoint: 'http://127.0.0.1:9', maxAttempts: 2 });
    const error = await store.head('k').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(2);
  });

  it('opens through openStore with options read from the environment', async () => {
    const store = openStore(`s3://${BUCKET}/${uniquePrefix()}`, s3OptionsFromEnv(server.env));
    expect(store).toBeInstanceOf(S3Store);
    try {
      await store.put('via/open-store', Buffer.from('hello'));
      expect((await store.get('via/open-store')).toString()).toBe('hello');
    } finally {
      await store.close();
    }
  });

  it('rejects options outside S3 limits', () => {
    expect(() => new S3Store(`s3://${BUCKET}`, { partSize: MiB })).toThrow(
      'S3 partSize must be between 5 MiB and 5 GiB, got 1048576',
    );
    expect(() => new S3Store(`s3://${BUCKET}`, { maxAttempts: 0 })).toThrow(
      'S3 option maxAttempts must be a positive integer, got 0',
    );
  });
});
