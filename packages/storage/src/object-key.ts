/**
 * The one rule for object keys, shared by every backend so that a key valid on S3 is valid on
 * a local folder and means the same object. For the local backend this is also the security
 * boundary: a key that passes can only name a file inside the store's root.
 */

/**
 * Leading marker of the temp files LocalStore writes before renaming. Keys may not use it, so
 * a listing can skip temp files without ever hiding a real object.
 */
export const TEMP_NAME_MARKER = '.fleet-tmp-';

/** S3's own limit on a key, in UTF-8 bytes; checked everywhere so both backends agree. */
const MAX_KEY_BYTES = 1024;

// C0 controls and DEL: NUL ends a path in the OS, and the rest cannot travel in S3's XML listings.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export class InvalidKeyError extends Error {
  constructor(readonly key: string, readonly reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidKeyError';
  }
}

/**
 * Throws InvalidKeyError unless `key` is a relative POSIX path of non-empty segments with no
 * `.` / `..` segment, no backslash, no control character (NUL included), at most 1024 bytes,
 * and a last segment that does not start with the temp-file marker. Returns the key unchanged.
 */
export function assertValidKey(key: string): string {
  const reason = keyProblem(key, false);
  if (reason !== undefined) throw new InvalidKeyError(key, reason);
  return key;
}

/**
 * Like assertValidKey for the argument of `list`: also accepts "" (everything) and a trailing
 * "/" ("a/b/" lists what is inside a/b). A prefix need not end on a segment boundary:
 * "tiles/r0" matches "tiles/r0-c3.tile", as on S3.
 */
export function assertValidPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const trimmed = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const reason = keyProblem(trimmed, true);
  if (reason !== undefined) throw new InvalidKeyError(prefix, reason);
  return prefix;
}

/** True when assertValidKey would accept `key`. */
export function isValidKey(key: string): boolean {
  return keyProblem(key, false) === undefined;
}

/** Byte order of the UTF-8 encoding: the order S3 lists keys in, so both backends sort alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** True for a name LocalStore uses for an unfinished write. */
export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_NAME_MARKER);
}

function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key === '') return 'empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  if (CONTROL_CHARACTERS.test(key)) return 'contains a control character (NUL included)';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'is absolute (starts with "/")';
  const segments = key.split('/');
  if (segments.some((segment) => segment === '')) return 'has an empty segment ("//" or a trailing "/")';
  if (segments.some((segment) => segment === '..')) return 'has a ".." segment';
  if (segments.some((segment) => segment === '.')) return 'has a "." segment';
  const last = segments[segments.length - 1] ?? '';
  if (!isPrefix && isTempName(last)) return `last segment starts with the reserved "${TEMP_NAME_MARKER}"`;
  return undefined;
}
