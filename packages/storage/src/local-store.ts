import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { assertByteRange } from './byte-range';
import {
  assertValidKey,
  assertValidPrefix,
  compareKeys,
  isTempName,
  isValidKey,
  TEMP_NAME_MARKER,
} from './object-key';
import { ObjectNotFoundError, type ObjectStore } from './object-store';

/**
 * An object store over a folder: key "a/b.tile" is the file ROOT/a/b.tile. Writes go to a temp
 * file beside the target and are renamed into place, so a reader (or a crash) never leaves a
 * partial object under a real key. Temp files are named with TEMP_NAME_MARKER and skipped by
 * list; one left by a killed process is harmless and may be deleted by hand.
 *
 * Unlike S3, a folder cannot hold both an object "a" and an object "a/b": the second put fails.
 * Files put there by other means under names that are not valid keys are not listed.
 */
export class LocalStore implements ObjectStore {
  /** The absolute root folder. */
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    await this.replaceWith(target, (temp) => writeFile(temp, body, { flag: 'wx' }));
  }

  /**
   * Writes `key` only if no object has that key; false when one exists. Exclusive: the temp
   * file is hard-linked to the key, and link() fails with EEXIST when the key exists, so of two
   * concurrent callers exactly one wins, and readers never see a partial object.
   */
  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const target = this.pathOf(key);
    const folder = dirname(target);
    await mkdir(folder, { recursive: true });
    const temp = join(folder, `${TEMP_NAME_MARKER}${randomBytes(6).toString('hex')}-${target.slice(folder.length + 1)}`);
    try {
      await writeFile(temp, body, { flag: 'wx' });
      await link(temp, target);
      return true;
    } catch (error) {
      if (hasCode(error, 'EEXIST')) return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.pathOf(key);
    // copyFile lets the kernel copy (copy_file_range / reflink) without passing through JS memory.
    await this.replaceWith(target, (temp) => copyFile(localPath, temp, fsConstants.COPYFILE_EXCL));
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (error) {
      throw this.notFoundOr(error, key);
    }
  }

  /** Reads up to `length` bytes from `offset`; shorter (or empty) past the end of the object. */
  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    const path = this.pathOf(key);
    assertByteRange(offset, length);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw this.notFoundOr(error, key);
    }
    try {
      const buffer = Buffer.alloc(length);
      let filled = 0;
      // read() may return fewer bytes than asked without being at the end; loop until EOF.
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    } catch (error) {
      throw this.notFoundOr(error, key);
    } finally {
      await handle.close();
    }
  }

  /**
   * Size and an etag made of inode, size and mtime: every put renames a new file into place,
   * so the etag changes whenever the object is rewritten (it is not a content hash).
   */
  async head(key: string): Promise<{ size: number; etag?: string } | undefined> {
    const path = this.pathOf(key);
    try {
      const stats = await stat(path, { bigint: true });
      if (!stats.isFile()) return undefined;
      return {
        size: Number(stats.size),
        etag: `${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}`,
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    // Walk only the folder the prefix points into, then filter by the whole prefix: "tiles/r0"
    // walks tiles/ and keeps "tiles/r0-c3.tile", matching S3's string-prefix semantics.
    const slash = prefix.lastIndexOf('/');
    const folderKey = slash < 0 ? '' : prefix.slice(0, slash);
    const keys: string[] = [];
    await this.walk(folderKey, keys);
    return keys.filter((key) => key.startsWith(prefix)).sort(compareKeys);
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return;
      // A key that names a folder (only "a/b" exists, delete "a") is a missing object, as on S3.
      if (hasCode(error, 'EISDIR') || hasCode(error, 'EPERM')) {
        const stats = await stat(path).catch(() => undefined);
        if (stats?.isDirectory()) return;
      }
      throw error;
    }
    // Empty parent folders are left in place: removing them would race with a concurrent put
    // that has just created the folder and not yet written its temp file.
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  /** Nothing to release; present so callers can close any store the same way. */
  async close(): Promise<void> {}

  /** The file path of a key, after checking the key cannot leave the root. */
  private pathOf(key: string): string {
    assertValidKey(key);
    const path = join(this.location, ...key.split('/'));
    // Belt and braces: assertValidKey already rules out every way out of the root.
    const rel = relative(this.location, path);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      throw new Error(`object key ${JSON.stringify(key)} resolves outside ${this.location}`);
    }
    return path;
  }

  private async replaceWith(target: string, write: (temp: string) => Promise<void>): Promise<void> {
    const folder = dirname(target);
    const known = this.madeFolders.has(folder);
    if (!known) await this.makeFolder(folder);
    const base = target.slice(folder.length + 1);
    // Same folder as the target, so rename is atomic (same file system); random so concurrent
    // writers of one key never share a temp file (the last rename wins whole).
    const temp = join(folder, `${TEMP_NAME_MARKER}${randomBytes(6).toString('hex')}-${base}`);
    try {
      try {
        await write(temp);
      } catch (error) {
        // The folder was made earlier but removed since (by hand, or a cleanup): make it again, once.
        if (!known || !hasCode(error, 'ENOENT')) throw error;
        this.madeFolders.delete(folder);
        await this.makeFolder(folder);
        await write(temp);
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Folders this store has made (or found) for a put. A worker puts every tile of a run into one
   * folder: a recursive mkdir per put was a quarter of a put's CPU (issue 13), for a folder that
   * exists from the first put on.
   */
  private readonly madeFolders = new Set<string>();

  private async makeFolder(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    this.madeFolders.add(folder);
  }

  private async walk(folderKey: string, into: string[]): Promise<void> {
    const folder = folderKey === '' ? this.location : join(this.location, ...folderKey.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const key = folderKey === '' ? entry.name : `${folderKey}/${entry.name}`;
      // Symbolic links are neither followed nor listed: the store never reaches outside its root.
      if (entry.isDirectory()) await this.walk(key, into);
      else if (entry.isFile() && !isTempName(entry.name) && isValidKey(key)) into.push(key);
    }
  }

  private notFoundOr(error: unknown, key: string): unknown {
    return isMissing(error) || hasCode(error, 'EISDIR') ? new ObjectNotFoundError(this.location, key) : error;
  }
}

function isMissing(error: unknown): boolean {
  // ENOTDIR: a parent of the key is a file ("a" exists, asked for "a/b").
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR');
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
