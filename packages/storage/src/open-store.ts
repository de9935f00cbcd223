import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LocalStore } from './local-store';
import { s3OptionsFromEnv } from './s3-env';
import { S3Store, type S3StoreOptions } from './s3-store';
import { isS3Url } from './s3-url';

/**
 * Opens the store a user named: `s3://bucket[/prefix]` is an S3Store (with `options`, by
 * default those of the environment: S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE), a
 * `file://` URL or any path is a LocalStore at its absolute path (relative paths resolve
 * against the working directory). Other URL schemes throw rather than quietly becoming a
 * folder named "gs:". The result has close(); call it when done.
 */
export function openStore(location: string, options?: S3StoreOptions): LocalStore | S3Store {
  if (location.trim() === '') throw new Error('store location is empty');
  if (isS3Url(location)) return new S3Store(location, options ?? s3OptionsFromEnv());
  if (location.startsWith('file://')) return new LocalStore(fileURLToPath(location));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location);
  if (scheme !== null) {
    throw new Error(`unsupported store location ${JSON.stringify(location)}: use s3://bucket/prefix or a folder path`);
  }
  return new LocalStore(resolve(location));
}
