import { InvalidKeyError, assertValidKey } from './object-key';

/** A bucket and the key prefix inside it that a store is rooted at. */
export interface S3Location {
  bucket: string;
  /** "" for the whole bucket, otherwise ends with "/" ("runs/"). */
  prefix: string;
}

// S3's bucket naming rules (lowercase, digits, dots, hyphens, 3-63 characters); checked here so
// a typo fails with the URL in the message rather than as a signature or DNS error later.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True when `location` is an s3:// URL. */
export function isS3Url(location: string): boolean {
  return location.startsWith('s3://');
}

/**
 * Splits `s3://bucket[/prefix][/]` into bucket and prefix. The prefix follows the object-key
 * rules (no "..", no empty segments) and comes back with one trailing "/".
 */
export function parseS3Url(url: string): S3Location {
  if (!isS3Url(url)) throw new Error(`not an s3:// URL: ${JSON.stringify(url)}`);
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!BUCKET_NAME.test(bucket)) {
    throw new Error(`invalid bucket name ${JSON.stringify(bucket)} in ${JSON.stringify(url)}`);
  }
  const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/$/, '');
  if (path === '') return { bucket, prefix: '' };
  try {
    assertValidKey(path);
  } catch (error) {
    if (error instanceof InvalidKeyError) {
      throw new Error(`invalid prefix in ${JSON.stringify(url)}: ${error.reason}`);
    }
    throw error;
  }
  return { bucket, prefix: `${path}/` };
}
