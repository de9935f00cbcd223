/**
 * The behaviour every ObjectStore backend must share, as one jest suite that each backend's
 * test file runs against a real store (a temp folder, a bucket on a real S3 server), so the
 * backends cannot drift apart. Not a test file itself: it has no tests until called.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

import { ObjectNotFoundError, type ObjectStore } from './object-store';

const MiB = 1024 * 1024;

export interface ContractStore {
  store: ObjectStore;
  /** Releases the store and removes what the test wrote. */
  dispose(): Promise<void>;
}

export interface ContractOptions {
  /**
   * Whether readers of the server itself may be watched during a replacing put. False for
   * s3rver, which writes objects in place (real S3 does not); that backend's own tests check
   * instead that a put is one request and a multipart object appears only on completion.
   */
  watchReplace: boolean;
  /** Called after the >64 MiB putFile, to check how the backend sent it (S3: multipart). */
  afterLargePutFile?: () => void;
}

/** Runs the shared suite; `open` gives each test a fresh, empty store. */
export function describeObjectStoreContract(
  backend: string,
  open: () => Promise<ContractStore>,
  options: ContractOptions,
): void {
  describe(`ObjectStore contract: ${backend}`, () => {
    let store: ObjectStore;
    let opened: ContractStore | undefined;
    let scratch: string;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      scratch = await mkdtemp(join(tmpdir(), 'store-contract-'));
    });
    afterEach(async () => {
      await opened?.dispose();
      opened = undefined;
      await rm(scratch, { recursive: true, force: true });
    });

    it('puts and gets bytes exactly, and a second put replaces the object', async () => {
      const bytes = Uint8Array.from([0, 1, 2, 255, 0, 10, 13, 0]);
      await store.put('runs/r1/a.bin', bytes);
      expect([...(await store.get('runs/r1/a.bin'))]).toEqual([0, 1, 2, 255, 0, 10, 13, 0]);

      await store.put('runs/r1/a.bin', Buffer.from('second'));
      expect((await store.get('runs/r1/a.bin')).toString()).toBe('second');
      expect(await store.list('')).toEqual(['runs/r1/a.bin']);
    });

    it('stores an empty object', async () => {
      await store.put('empty', new Uint8Array(0));
      expect((await store.get('empty')).length).toBe(0);
      expect((await store.head('empty'))?.size).toBe(0);
    });

    it('throws ObjectNotFoundError naming the key and the store for a missing object', async () => {
      await store.put('a/b', Buffer.from('x'));
      for (const read of [() => store.get('nope'), () => store.getRange('nope', 0, 4), () => store.get('a/b/c')]) {
        const error = await read().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ObjectNotFoundError);
      }
      await expect(store.get('runs/missing.tile')).rejects.toThrow(
        `object not found: runs/missing.tile in ${store.location}`,
      );
      const error = (await store.get('runs/missing.tile').catch((caught: unknown) => caught)) as ObjectNotFoundError;
      expect(error.key).toBe('runs/missing.tile');
      expect(error.location).toBe(store.location);
      // "a" is only a folder-like prefix of "a/b", not an object.
      await expect(store.get('a')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('reads byte ranges, short past the end', async () => {
      await store.put('r', Buffer.from('0123456789'));
      expect((await store.getRange('r', 0, 4)).toString()).toBe('0123');
      expect((await store.getRange('r', 3, 4)).toString()).toBe('3456');
      expect((await store.getRange('r', 9, 1)).toString()).toBe('9');
      expect((await store.getRange('r', 8, 100)).toString()).toBe('89');
      expect((await store.getRange('r', 10, 5)).length).toBe(0);
      expect((await store.getRange('r', 50, 5)).length).toBe(0);
      expect((await store.getRange('r', 4, 0)).length).toBe(0);
      await expect(store.getRange('r', -1, 2)).rejects.toThrow('getRange offset must be a non-negative integer, got -1');
      await expect(store.getRange('r', 0, 1.5)).rejects.toThrow('getRange length must be a non-negative integer, got 1.5');
      await expect(store.getRange('missing', 4, 0)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('heads: size and an etag that changes on rewrite; undefined when missing', async () => {
      await store.put('h/one', Buffer.from('hello'));
      const first = await store.head('h/one');
      expect(first?.size).toBe(5);
      expect(typeof first?.etag).toBe('string');
      await store.put('h/one', Buffer.from('hello, world'));
      const second = await store.head('h/one');
      expect(second?.size).toBe(12);
      expect(second?.etag).not.toBe(first?.etag);
      expect(await store.head('h/missing')).toBeUndefined();
      expect(await store.head('h')).toBeUndefined();
    });

    it('lists recursively, sorted in UTF-8 byte order, by string prefix', async () => {
      const keys = [
        'tiles/r1-c0.tile',
        'tiles/r0-c3.tile',
        'tiles/r0/deep/x.tile',
        'tiles/r0-c10.tile',
        'manifest.json',
        'other/Z',
        'other/z',
        'other/é',
        'other/\u{1F600}', // outside the BMP: UTF-16 order would put it before U+FF5E
        'other/\uFF5E',
      ];
      for (const key of keys) await store.put(key, Buffer.from(key));

      expect(await store.list('')).toEqual([
        'manifest.json',
        'other/Z',
        'other/z',
        'other/é',
        'other/\uFF5E',
        'other/\u{1F600}',
        'tiles/r0-c10.tile',
        'tiles/r0-c3.tile',
        'tiles/r0/deep/x.tile',
        'tiles/r1-c0.tile',
      ]);
      expect(await store.list('tiles/r0')).toEqual(['tiles/r0-c10.tile', 'tiles/r0-c3.tile', 'tiles/r0/deep/x.tile']);
      expect(await store.list('tiles/r0/')).toEqual(['tiles/r0/deep/x.tile']);
      expect(await store.list('tiles/r0-c3.tile')).toEqual(['tiles/r0-c3.tile']);
      expect(await store.list('nothing/here/')).toEqual([]);
      expect(await store.list('manifest.json/')).toEqual([]);
      expect((await store.get('other/\u{1F600}')).toString()).toBe('other/\u{1F600}');
    });

    it('deletes, and deleting a missing object or a folder-like prefix is not an error', async () => {
      await store.put('d/a', Buffer.from('a'));
      await store.put('d/b', Buffer.from('b'));
      await store.delete('d/a');
      expect(await store.head('d/a')).toBeUndefined();
      await expect(store.get('d/a')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.list('d/')).toEqual(['d/b']);
      await store.delete('d/a');
      await store.delete('never/was');
      await store.delete('d');
      expect(await store.list('')).toEqual(['d/b']);
    });

    it('putFile uploads a small file', async () => {
      const path = join(scratch, 'small.bin');
      const bytes = randomBytes(100_000);
      await writeFile(path, bytes);
      await store.putFile('files/small.bin', path);
      expect((await store.get('files/small.bin')).equals(bytes)).toBe(true);
      expect(await store.head('files/small.bin')).toMatchObject({ size: 100_000 });
    });

    it('putFile of a missing local file fails with the path and leaves nothing behind', async () => {
      const path = join(scratch, 'does-not-exist.bin');
      await expect(store.putFile('files/x.bin', path)).rejects.toThrow(path);
      expect(await store.list('')).toEqual([]);
    });

    it('putFile uploads a file over 64 MiB (multipart on S3) intact', async () => {
      const size = 64 * MiB + 3 * MiB + 12_345;
      const path = join(scratch, 'large.bin');
      const sha = await writePatternFile(path, size);

      await store.putFile('large/ortho.tif', path);
      options.afterLargePutFile?.();

      expect((await store.head('large/ortho.tif'))?.size).toBe(size);
      const boundary = 16 * MiB; // a part boundary on S3
      const around = await store.getRange('large/ortho.tif', boundary - 5, 10);
      expect([...around]).toEqual(patternBytes(boundary - 5, 10));
      const tail = await store.getRange('large/ortho.tif', size - 7, 100);
      expect([...tail]).toEqual(patternBytes(size - 7, 7));
      const whole = await store.get('large/ortho.tif');
      expect(createHash('sha256').update(whole).digest('hex')).toBe(sha);
    });

    if (options.watchReplace) {
      it('never shows a partial object while a put replaces it', async () => {
        const oldBody = Buffer.alloc(1000, 'a');
        const newBody = Buffer.alloc(24 * MiB, 'b');
        await store.put('atomic/obj', oldBody);

        let writing = true;
        const seen = new Set<string>();
        const watcher = (async () => {
          // Watch until the put has finished, plus one look after it. Each look is one
          // operation (a head, a read): a rename between two of them is not a partial object.
          for (let last = false; !last; ) {
            last = !writing;
            const size = (await store.head('atomic/obj'))?.size;
            expect([oldBody.length, newBody.length]).toContain(size);
            const start = (await store.getRange('atomic/obj', 0, oldBody.length + 1)).toString();
            if (start === 'a'.repeat(oldBody.length)) seen.add('old');
            else if (start === 'b'.repeat(oldBody.length + 1)) seen.add('new');
            else seen.add(`partial: ${start.length} bytes`);
            expect(await store.list('atomic/')).toEqual(['atomic/obj']);
          }
        })();
        await store.put('atomic/obj', newBody);
        writing = false;
        await watcher;

        expect(seen.has('new')).toBe(true);
        for (const version of seen) expect(['old', 'new']).toContain(version);
        expect((await store.get('atomic/obj')).equals(newBody)).toBe(true);
      });
    }
  });
}

/** The byte at offset i of the test pattern: varies inside and across parts, cheap to recompute. */
function patternByte(i: number): number {
  return (i * 31 + (i >>> 20)) & 0xff;
}

function patternBytes(offset: number, length: number): number[] {
  return Array.from({ length }, (_, index) => patternByte(offset + index));
}

/** Writes `size` pattern bytes a MiB at a time (no whole-file buffer); returns their sha256. */
async function writePatternFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const chunk = Buffer.alloc(MiB);
  for (let offset = 0; offset < size; offset += MiB) {
    const length = Math.min(MiB, size - offset);
    for (let i = 0; i < length; i += 1) chunk[i] = patternByte(offset + i);
    const piece = chunk.subarray(0, length);
    hash.update(piece);
    if (!out.write(Buffer.from(piece))) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  // Read back once so a short write cannot masquerade as an upload bug.
  const check = createHash('sha256');
  for await (const piece of createReadStream(path)) check.update(piece as Buffer);
  const sha = hash.digest('hex');
  expect(check.digest('hex')).toBe(sha);
  return sha;
}
