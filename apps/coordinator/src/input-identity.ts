import type { ObjectStore } from '@fleet/storage';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes per range read when hashing an object that is not a local file (S3). */
const HASH_CHUNK = 8 * 1024 * 1024;

/**
 * The version of one input dalle, what a nightly refresh compares to know whether it changed.
 * - default: the S3 ETag, or `size-mtimeMs` for a local file. Cheap (one HEAD / stat), but a
 *   file rewritten with identical bytes (a new mtime) counts as changed.
 * - `hashContent`: `sha256:<hex>` of the bytes, streamed (never the whole file in memory).
 *   Costs a full read of every dalle, but re-deliveries of identical bytes are not recomputed.
 * The local default is deliberately not the store's etag (inode-size-mtimeNs): a dalle copied
 * back with `cp -p` (new inode, same size and mtime to the ms) is the same imagery.
 */
export async function dalleVersion(store: ObjectStore, key: string, hashContent: boolean): Promise<string> {
  const local = store.localPath(key);
  if (hashContent) return `sha256:${local !== undefined ? await hashLocalFile(local) : await hashObject(store, key)}`;
  if (local !== undefined) {
    // rounded to the nearest ms from the bigint ns: utimes() and mtimeMs go through float
    // seconds, so a time set to .678 s reads back as .677999 s
    const stats = await stat(local, { bigint: true });
    return `${stats.size}-${(stats.mtimeNs + 500_000n) / 1_000_000n}`;
  }
  const head = await store.head(key);
  if (!head) throw new Error(`${store.location}/${key}: no such object (it disappeared while the run was planned)`);
  // s3rver and some S3-compatible stores give no ETag: the size is then all there is
  return head.etag !== undefined ? `etag:${head.etag}` : `size:${head.size}`;
}

/**
 * The model's identity: sha256 of model.onnx's bytes, then model.json's. Not its `version`
 * field: weights replaced under the same name and version must give a new map.
 */
export async function modelContentHash(modelDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of ['model.onnx', 'model.json']) {
    try {
      await feedFile(hash, join(modelDir, name));
    } catch (err) {
      throw new Error(`${join(modelDir, name)}: cannot be read to hash the model (${(err as Error).message})`);
    }
    // a separator, so that bytes moving from one file to the other change the hash
    hash.update(`\0${name}\0`);
  }
  return hash.digest('hex');
}

async function hashLocalFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await feedFile(hash, path);
  return hash.digest('hex');
}

async function feedFile(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

async function hashObject(store: ObjectStore, key: string): Promise<string> {
  const head = await store.head(key);
  if (!head) throw new Error(`${store.location}/${key}: no such object (it disappeared while the run was planned)`);
  const hash = createHash('sha256');
  for (let offset = 0; offset < head.size; offset += HASH_CHUNK) {
    hash.update(await store.getRange(key, offset, Math.min(HASH_CHUNK, head.size - offset)));
  }
  return hash.digest('hex');
}
