import { copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, S3Store, s3OptionsFromEnv } from '@fleet/storage';
import { startS3Server, type S3TestServer } from '../../../test/support/s3-server';
import { dalleVersion, modelContentHash } from './input-identity';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('dalleVersion (local folder)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'identity-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is size-mtimeMs by default: a copy with the same size and mtime is the same dalle, a touch is a change', async () => {
    const store = openStore(root);
    writeFileSync(join(root, 'a.tif'), Buffer.alloc(1000, 7));
    const t = new Date('2026-01-02T03:04:05.678Z');
    utimesSync(join(root, 'a.tif'), t, t);
    const before = await dalleVersion(store, 'a.tif', false);
    expect(before).toBe(`1000-${t.getTime()}`);
    // cp -p: a new inode, the same bytes, size and mtime
    copyFileSync(join(root, 'a.tif'), join(root, 'b.tif'));
    rmSync(join(root, 'a.tif'));
    copyFileSync(join(root, 'b.tif'), join(root, 'a.tif'));
    utimesSync(join(root, 'a.tif'), t, t);
    expect(await dalleVersion(store, 'a.tif', false)).toBe(before);
    const later = new Date(t.getTime() + 1000);
    utimesSync(join(root, 'a.tif'), later, later);
    expect(await dalleVersion(store, 'a.tif', false)).not.toBe(before);
  });

  it('with hashing is the sha256 of the bytes: a new mtime is no change, one changed byte is', async () => {
    const store = openStore(root);
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 3);
    writeFileSync(join(root, 'a.tif'), bytes);
    expect(await dalleVersion(store, 'a.tif', true)).toBe(`sha256:${sha(bytes)}`);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'a.tif'), later, later);
    expect(await dalleVersion(store, 'a.tif', true)).toBe(`sha256:${sha(bytes)}`);
    bytes[12345] = 4;
    writeFileSync(join(root, 'a.tif'), bytes);
    expect(await dalleVersion(store, 'a.tif', true)).toBe(`sha256:${sha(bytes)}`);
  });
});

describe('modelContentHash', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'model-hash-'));
    writeFileSync(join(root, 'model.onnx'), Buffer.from('weights-1'));
    writeFileSync(join(root, 'model.json'), '{"name":"m","version":"1"}');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('changes with the weights under the same model.json (same name and version), not with the mtime', async () => {
    const first = await modelContentHash(root);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'model.onnx'), later, later);
    expect(await modelContentHash(root)).toBe(first);
    writeFileSync(join(root, 'model.onnx'), Buffer.from('weights-2'));
    expect(await modelContentHash(root)).not.toBe(first);
  });

  it('changes with model.json, and names the file it cannot read', async () => {
    const first = await modelContentHash(root);
    writeFileSync(join(root, 'model.json'), '{"name":"m","version":"1","classes":[]}');
    expect(await modelContentHash(root)).not.toBe(first);
    rmSync(join(root, 'model.onnx'));
    await expect(modelContentHash(root)).rejects.toThrow(`${join(root, 'model.onnx')}: cannot be read to hash the model`);
  });
});

describe('dalleVersion (S3, real s3rver)', () => {
  let server: S3TestServer;
  let store: S3Store;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    server = await startS3Server();
    for (const [name, value] of Object.entries(server.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    await server.bucket('ortho');
    store = new S3Store('s3://ortho/92', s3OptionsFromEnv(server.env));
  });
  afterAll(async () => {
    await store.close();
    await server.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('is the ETag by default and the streamed sha256 with hashing; a missing object is named', async () => {
    const bytes = Buffer.alloc(20_000, 9);
    await store.put('a.tif', bytes);
    const etag = (await store.head('a.tif'))!.etag!;
    expect(await dalleVersion(store, 'a.tif', false)).toBe(`etag:${etag}`);
    expect(await dalleVersion(store, 'a.tif', true)).toBe(`sha256:${sha(bytes)}`);
    await store.put('a.tif', Buffer.alloc(20_000, 8));
    expect(await dalleVersion(store, 'a.tif', false)).not.toBe(`etag:${etag}`);
    await expect(dalleVersion(store, 'gone.tif', false)).rejects.toThrow('s3://ortho/92/gone.tif: no such object');
  });
});
