import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { LocalStore } from './local-store';
import { InvalidKeyError } from './object-key';
import { ObjectNotFoundError } from './object-store';
import { describeObjectStoreContract } from './test-store-contract';

describeObjectStoreContract(
  'LocalStore',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'local-store-'));
    const store = new LocalStore(root);
    return {
      store,
      dispose: async () => {
        await store.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  { watchReplace: true },
);

describe('LocalStore', () => {
  // A parent folder around the root, to see whether anything lands beside the root.
  let parent: string;
  let root: string;
  let store: LocalStore;

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'local-store-parent-'));
    root = join(parent, 'root');
    store = new LocalStore(root);
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('keeps an absolute location and maps keys to files under it', async () => {
    expect(new LocalStore('relative/dir').location).toBe(join(process.cwd(), 'relative/dir'));
    expect(store.location).toBe(root);
    await store.put('runs/r1/tiles/r0-c3.tile', Buffer.from('tile'));
    const path = store.localPath('runs/r1/tiles/r0-c3.tile');
    expect(path).toBe(join(root, 'runs', 'r1', 'tiles', 'r0-c3.tile'));
    expect(await readFile(path, 'utf8')).toBe('tile');
  });

  it('leaves no temp file behind and does not list temp files of unfinished writes', async () => {
    await store.put('a/b.bin', Buffer.from('x'));
    await store.putFile('a/c.bin', store.localPath('a/b.bin'));
    expect((await readdir(join(root, 'a'))).sort()).toEqual(['b.bin', 'c.bin']);

    // What a killed writer leaves: a marked temp file beside the target.
    await writeFile(join(root, 'a', '.fleet-tmp-0123456789ab-d.bin'), 'partial');
    expect(await store.list('')).toEqual(['a/b.bin', 'a/c.bin']);
    expect(await store.list('a/.fleet')).toEqual([]);
  });

  it('puts again into a folder removed since its first put (the folder is remembered, not trusted)', async () => {
    await store.put('runs/r1/tiles/r0-c0.tile', Buffer.from('one'));
    await rm(join(root, 'runs'), { recursive: true });
    await store.put('runs/r1/tiles/r0-c1.tile', Buffer.from('two'));
    expect(await store.list('runs/')).toEqual(['runs/r1/tiles/r0-c1.tile']);
    await rm(join(root, 'runs'), { recursive: true });
    // putFile from a file that is gone still fails with the missing source, after remaking the folder
    await expect(store.putFile('runs/r1/tiles/r0-c2.tile', join(parent, 'no-such-file'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(root, 'runs', 'r1', 'tiles'))).toEqual([]);
  });

  it('fails a put whose folder cannot be made again, leaving nothing behind', async () => {
    await store.put('runs/r1/tiles/r0-c0.tile', Buffer.from('one'));
    await rm(join(root, 'runs'), { recursive: true });
    // a file where the folder was: mkdir fails (EEXIST/ENOTDIR), and the error reaches the caller
    await writeFile(join(root, 'runs'), 'not a folder');
    await expect(store.put('runs/r1/tiles/r0-c1.tile', Buffer.from('two'))).rejects.toMatchObject({ code: expect.stringMatching(/^(EEXIST|ENOTDIR)$/) });
    expect(await readdir(root)).toEqual(['runs']);
  });

  it('never shows a partial object while putFile replaces it', async () => {
    const source = join(parent, 'big.bin');
    const big = Buffer.alloc(32 * 1024 * 1024, 'n');
    await writeFile(source, big);
    await store.put('obj', Buffer.from('old'));
    let copying = true;
    const sizes = new Set<number | undefined>();
    const watcher = (async () => {
      for (let last = false; !last; ) {
        last = !copying;
        sizes.add((await store.head('obj'))?.size);
      }
    })();
    await store.putFile('obj', source);
    copying = false;
    await watcher;
    expect([...sizes].every((size) => size === 3 || size === big.length)).toBe(true);
    expect(sizes.has(big.length)).toBe(true);
  });

  it('treats a folder as a missing object', async () => {
    await store.put('dir/inner', Buffer.from('x'));
    await expect(store.get('dir')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.getRange('dir', 0, 1)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.head('dir')).toBeUndefined();
    await store.delete('dir');
    expect(await store.get('dir/inner')).toEqual(Buffer.from('x'));
  });

  it('does not follow or list symbolic links', async () => {
    const outside = join(parent, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'secret');
    await store.put('real', Buffer.from('r'));
    await symlink(outside, join(root, 'linked-dir'));
    await symlink(join(outside, 'secret'), join(root, 'linked-file'));
    expect(await store.list('')).toEqual(['real']);
  });

  it('does not list files whose names are not valid keys', async () => {
    await store.put('ok', Buffer.from('1'));
    await writeFile(join(root, 'back\\slash'), 'x');
    expect(await store.list('')).toEqual(['ok']);
  });

  describe('rejects bad keys before touching the disk', () => {
    const cases: Array<[key: string, reason: string]> = [
      ['a/../../x', 'has a ".." segment'],
      ['../x', 'has a ".." segment'],
      ['..', 'has a ".." segment'],
      ['a/..', 'has a ".." segment'],
      ['/etc/passwd', 'is absolute (starts with "/")'],
      ['a\\..\\..\\x', 'contains a backslash'],
      ['a//b', 'has an empty segment ("//" or a trailing "/")'],
      ['a/', 'has an empty segment ("//" or a trailing "/")'],
      ['', 'empty'],
      ['a\u0000b', 'contains a control character (NUL included)'],
      ['./a', 'has a "." segment'],
      ['a/.fleet-tmp-x', 'last segment starts with the reserved ".fleet-tmp-"'],
    ];

    it.each(cases)('%j: %s', async (key, reason) => {
      const message = `invalid object key ${JSON.stringify(key)}: ${reason}`;
      const file = join(parent, 'source');
      await writeFile(file, 'payload');
      const attempts: Array<() => Promise<unknown>> = [
        () => store.put(key, Buffer.from('payload')),
        () => store.putFile(key, file),
        () => store.get(key),
        () => store.getRange(key, 0, 1),
        () => store.head(key),
        () => store.delete(key),
        async () => store.localPath(key),
      ];
      for (const attempt of attempts) {
        const error = await attempt().then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(InvalidKeyError);
        expect((error as InvalidKeyError).message).toBe(message);
        expect((error as InvalidKeyError).key).toBe(key);
      }
      // Nothing was written, inside the root or beside it.
      expect((await readdir(parent)).sort()).toEqual(['source']);
    });

    it('rejects a list prefix that could leave the root', async () => {
      await expect(store.list('../')).rejects.toThrow('invalid object key "../": has a ".." segment');
      await expect(store.list('a/../../')).rejects.toThrow('has a ".." segment');
      await expect(store.list('/')).rejects.toThrow('is absolute');
    });
  });
});
