import { isS3Url, openStore, type LocalStore, type S3Store } from '@fleet/storage';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

const JP2_NAME = /\.jp2$/i;

/** One source dalle and the COG it becomes. */
export interface Dalle {
  /** Key in the source store, e.g. "92/92-2024-0645-6865-LA93-0M20-E080.jp2". */
  sourceKey: string;
  /** Store etag (or size) when listed: a different value means the dalle changed. */
  sourceVersion: string;
  /** Same relative path with ".tif". */
  outputKey: string;
}

export interface DalleSource {
  store: LocalStore | S3Store;
  dalles: Dalle[];
}

/** "a/B.JP2" -> "a/B.tif": nested folders are kept so dalles with one name in two folders never collide. */
export function cogKeyFor(sourceKey: string): string {
  return sourceKey.replace(JP2_NAME, '.tif');
}

/** A version string that changes when the object is rewritten: the store's etag, plus the size. */
export function versionOf(head: { size: number; etag?: string }): string {
  return head.etag === undefined ? `size-${head.size}` : `${head.etag.replace(/"/g, '')}-${head.size}`;
}

/**
 * The .jp2 dalles (any case, nested folders) of a folder, an s3:// prefix or one .jp2 file
 * (the store is then its folder). Throws naming the location when it holds no dalle.
 */
export async function listDalles(location: string): Promise<DalleSource> {
  const single = JP2_NAME.test(location) && (isS3Url(location) || (await isFile(location)));
  const store = single ? openStore(parentOf(location)) : openStore(location);
  try {
    const keys = single ? [basenameOf(location)] : (await store.list('')).filter((k) => JP2_NAME.test(k));
    const dalles: Dalle[] = [];
    for (const sourceKey of keys) {
      const head = await store.head(sourceKey);
      if (!head) throw new Error(`${location}: no such file`);
      dalles.push({ sourceKey, sourceVersion: versionOf(head), outputKey: cogKeyFor(sourceKey) });
    }
    if (dalles.length === 0) throw new Error(`${location}: no .jp2 dalle found`);
    const byOutput = new Map<string, string>();
    for (const d of dalles) {
      const other = byOutput.get(d.outputKey);
      // "a.jp2" and "a.JP2" side by side would both become "a.tif", each overwriting the other
      if (other !== undefined) throw new Error(`${location}: ${other} and ${d.sourceKey} would both become ${d.outputKey}`);
      byOutput.set(d.outputKey, d.sourceKey);
    }
    return { store, dalles };
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function isFile(path: string): Promise<boolean> {
  const stats = await stat(path).catch(() => undefined);
  return stats?.isFile() === true;
}

function parentOf(location: string): string {
  if (isS3Url(location)) return location.slice(0, location.lastIndexOf('/'));
  return dirname(resolve(location));
}

function basenameOf(location: string): string {
  return isS3Url(location) ? location.slice(location.lastIndexOf('/') + 1) : basename(location);
}
