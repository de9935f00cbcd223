/**
 * One interface over the places a run reads and writes: a local folder (the embedded
 * default) or an S3-compatible bucket. Keys are relative POSIX paths ("runs/abc/tiles/r0-c3.tile").
 */
export interface ObjectStore {
  /** Where this store points, as a user would write it: an absolute folder path or s3://bucket/prefix. */
  readonly location: string;
  /** Writes a whole object. Readers never see a partial object (temp file + rename, or one S3 PUT). */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Uploads a local file as `key` (streamed; multipart on S3 for large files). Atomic like put. */
  putFile(key: string, localPath: string): Promise<void>;
  /** Reads a whole object; throws ObjectNotFoundError when it does not exist. */
  get(key: string): Promise<Buffer>;
  /** Reads `length` bytes from `offset` (S3: one ranged GET). Throws ObjectNotFoundError. */
  getRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** Size and etag of an object, or undefined when it does not exist. */
  head(key: string): Promise<{ size: number; etag?: string } | undefined>;
  /** All keys under a prefix (recursive), sorted, relative to the store root. */
  list(prefix: string): Promise<string[]>;
  /** Deletes an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** For a local store, the file path of a key (to let GDAL/geotiff.js open it directly); undefined on S3. */
  localPath(key: string): string | undefined;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly location: string, readonly key: string) {
    super(`object not found: ${key} in ${location}`);
    this.name = 'ObjectNotFoundError';
  }
}
