import { openStore, type ObjectStore } from '@fleet/storage';
import { posix, resolve } from 'node:path';

/**
 * A source given on the command line: a folder / s3 prefix of dalles, or one file. Returns
 * the store that holds it and, for a single file, its key.
 */
export function openSourceLocation(location: string): { store: ObjectStore; file?: string } {
  if (/\.(tif|tiff)$/i.test(location)) {
    if (location.startsWith('s3://')) {
      const slash = location.lastIndexOf('/');
      return { store: openStore(location.slice(0, slash)), file: location.slice(slash + 1) };
    }
    const abs = resolve(location);
    return { store: openStore(posix.dirname(abs)), file: posix.basename(abs) };
  }
  return { store: openStore(location.startsWith('s3://') ? location : resolve(location)) };
}
