import type { ObjectStore } from '@fleet/storage';
import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024 * 1024;

/**
 * Copies `size` bytes of an object to a local file in 64 MiB ranged reads, so a 300 MB dalle
 * never sits whole in memory (ObjectStore.get would buffer it).
 */
export async function fetchToFile(store: ObjectStore, key: string, size: number, path: string): Promise<void> {
  const file = await open(path, 'wx');
  try {
    for (let offset = 0; offset < size; offset += CHUNK) {
      const length = Math.min(CHUNK, size - offset);
      const bytes = await store.getRange(key, offset, length);
      if (bytes.length !== length) throw new Error(`${store.location}/${key}: object shrank while being read (got ${offset + bytes.length} of ${size} bytes)`);
      await file.write(bytes, 0, bytes.length, offset);
    }
  } finally {
    await file.close();
  }
}
