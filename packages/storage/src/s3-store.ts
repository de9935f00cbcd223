import { open, readFile, stat, type FileHandle } from 'node:fs/promises';

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';

import { assertByteRange } from './byte-range';
import { assertValidKey, assertValidPrefix, compareKeys, isValidKey } from './object-key';
import { ObjectNotFoundError, type ObjectStore } from './object-store';
import { parseS3Url } from './s3-url';

const MiB = 1024 * 1024;
/** S3's limits on multipart uploads. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;

/**
 * How to reach the bucket. Credentials are deliberately not an option: they come from the AWS
 * SDK's default provider chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance
 * roles...), so they never pass through configuration objects that end up in logs.
 */
export interface S3StoreOptions {
  /**
   * URL of an S3-compatible service (MinIO, s3rver, ...), e.g. "http://127.0.0.1:9000".
   * @default undefined: AWS's own endpoint for the region
   */
  endpoint?: string;
  /**
   * Region used for signing and for AWS's endpoint.
   * @default process.env.AWS_REGION, else "us-east-1"
   */
  region?: string;
  /**
   * Address buckets as http://host/bucket/key instead of http://bucket.host/key; most
   * self-hosted services need it.
   * @default true when `endpoint` is set, false otherwise
   */
  forcePathStyle?: boolean;
  /**
   * Attempts per request, first one included. Throttling, 5xx and network errors are retried
   * by the SDK's standard retry strategy (exponential backoff with full jitter).
   * @default 8
   */
  maxAttempts?: number;
  /**
   * The SDK's retry strategy: "standard" (exponential backoff with full jitter, a retry
   * quota) or "adaptive" (standard plus client-side rate limiting after throttling, for a
   * fleet that keeps hitting 503 SlowDown on one prefix).
   * @default "standard"
   */
  retryMode?: 'standard' | 'adaptive';
  /**
   * Milliseconds allowed to open a connection before the attempt fails (and is retried).
   * @default 10000
   */
  connectionTimeoutMs?: number;
  /**
   * Milliseconds a connection may stay silent mid-request before the attempt fails (and is
   * retried). An idle timeout rather than a whole-request one, so large transfers that keep
   * moving are never cut off.
   * @default 60000
   */
  socketTimeoutMs?: number;
  /**
   * putFile sends files larger than this as a multipart upload, smaller ones as one PUT.
   * @default 64 MiB
   */
  multipartThreshold?: number;
  /**
   * Multipart part size in bytes (at least 5 MiB); raised when needed to stay within S3's
   * 10 000 parts. Memory used by one upload is about partSize * partConcurrency.
   * @default 16 MiB
   */
  partSize?: number;
  /**
   * Parts of one multipart upload sent at the same time.
   * @default 4
   */
  partConcurrency?: number;
}

/**
 * An object store over `s3://bucket/prefix`: key "a/b.tile" is the object "prefix/a/b.tile".
 * Every write is a single PUT or a completed multipart upload, both atomic on S3.
 * Call close() when done, to release the client's connections.
 */
export class S3Store implements ObjectStore {
  /** s3://bucket or s3://bucket/prefix (no trailing slash). */
  readonly location: string;
  readonly bucket: string;
  /** "" or a prefix ending with "/". */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly partConcurrency: number;

  constructor(url: string, options: S3StoreOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix.slice(0, -1)}`;

    this.multipartThreshold = positiveInteger('multipartThreshold', options.multipartThreshold ?? 64 * MiB);
    this.partSize = positiveInteger('partSize', options.partSize ?? 16 * MiB);
    if (this.partSize < MIN_PART_SIZE || this.partSize > MAX_PART_SIZE) {
      throw new RangeError(`S3 partSize must be between 5 MiB and 5 GiB, got ${this.partSize}`);
    }
    if (this.multipartThreshold > MAX_PART_SIZE) {
      throw new RangeError(`S3 multipartThreshold must be at most 5 GiB (one PUT), got ${this.multipartThreshold}`);
    }
    this.partConcurrency = positiveInteger('partConcurrency', options.partConcurrency ?? 4);

    this.client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 8),
      retryMode: options.retryMode ?? 'standard',
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 10_000,
        socketTimeout: options.socketTimeoutMs ?? 60_000,
      },
      // The SDK's default (CRC32 on every request) sends streamed bodies as aws-chunked with a
      // trailing checksum, which S3-compatible servers such as s3rver and older MinIO store
      // verbatim, framing included (seen with s3rver 3.7). Checksums only where S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: body }));
  }

  /**
   * Writes `key` only if no object has that key; false when one exists. A conditional PUT
   * (`If-None-Match: *`, answered 412 when the key exists) on S3 and MinIO; servers that
   * ignore the header (s3rver 3.7 does) overwrite instead, so callers that need exclusivity
   * read the object back to check they won (OutputLease does).
   */
  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: body, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      // 409 ConditionalRequestConflict: a concurrent conditional PUT of the same key is under way
      if (httpStatus(error) === 412 || httpStatus(error) === 409) return false;
      throw error;
    }
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const objectKey = this.objectKey(key);
    const { size } = await stat(localPath);
    if (size > this.multipartThreshold) {
      await this.putMultipart(objectKey, localPath, size);
      return;
    }
    // Read whole (at most multipartThreshold bytes) rather than streamed: a buffer body lets
    // the SDK retry a failed attempt, a consumed stream does not.
    const body = await readFile(localPath);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body }));
  }

  async get(key: string): Promise<Buffer> {
    const objectKey = this.objectKey(key);
    let output: GetObjectCommandOutput;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      throw this.notFoundOr(error, key);
    }
    return bodyBytes(output);
  }

  /** Reads up to `length` bytes from `offset` with one ranged GET; shorter (or empty) past the end. */
  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    const objectKey = this.objectKey(key);
    assertByteRange(offset, length);
    if (length === 0) {
      // "bytes=N-(N-1)" is not a valid range; still answer not-found for a missing object.
      if ((await this.head(key)) === undefined) throw new ObjectNotFoundError(this.location, key);
      return Buffer.alloc(0);
    }
    let output: GetObjectCommandOutput;
    try {
      output = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Range: `bytes=${offset}-${offset + length - 1}`,
        }),
      );
    } catch (error) {
      // 416: the object exists but starts before `offset`; same answer as reading a file's end.
      if (errorName(error) === 'InvalidRange' || httpStatus(error) === 416) return Buffer.alloc(0);
      throw this.notFoundOr(error, key);
    }
    const bytes = await bodyBytes(output);
    // A server that ignores Range answers 200 with the whole object; cut the range out here.
    return output.ContentRange === undefined ? bytes.subarray(offset, offset + length) : bytes;
  }

  /** Size and ETag (without quotes). A missing bucket also answers undefined: HEAD has no error body to tell them apart. */
  async head(key: string): Promise<{ size: number; etag?: string } | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      const etag = output.ETag?.replace(/^"(.*)"$/, '$1');
      return { size: output.ContentLength ?? 0, ...(etag === undefined ? {} : { etag }) };
    } catch (error) {
      const name = errorName(error);
      if (name === 'NotFound' || name === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** Keys under `prefix`, sorted; objects whose names are not valid keys (made by other tools) are skipped. */
  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    const keys: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.prefix.length);
        if (key !== undefined && object.Key?.startsWith(this.prefix) && isValidKey(key)) keys.push(key);
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    // S3 already lists in UTF-8 byte order; sorting again keeps the promise for any server.
    return keys.sort(compareKeys);
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too, so deleting twice is not an error.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  localPath(key: string): undefined {
    assertValidKey(key);
    return undefined;
  }

  /** Releases the client's sockets. The store must not be used afterwards. */
  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return this.prefix + assertValidKey(key);
  }

  private notFoundOr(error: unknown, key: string): unknown {
    return errorName(error) === 'NoSuchKey' ? new ObjectNotFoundError(this.location, key) : error;
  }

  /**
   * Uploads a large file in parts read straight from disk (no whole-file buffer), a few at a
   * time. Each part is a Buffer so the SDK can retry it. The object appears only when the
   * upload completes; on any failure the upload is aborted so no parts linger (and bill).
   */
  private async putMultipart(objectKey: string, localPath: string, size: number): Promise<void> {
    const partSize = Math.max(this.partSize, Math.ceil(size / MAX_PARTS));
    const partCount = Math.ceil(size / partSize);
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey }),
    );
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new Error(`S3 returned no UploadId for ${this.bucket}/${objectKey}`);

    const etags: string[] = [];
    let file: FileHandle | undefined;
    try {
      file = await open(localPath, 'r');
      const handle = file;
      let nextPart = 0;
      let failed = false;
      const sendParts = async (): Promise<void> => {
        while (!failed && nextPart < partCount) {
          const index = nextPart++;
          try {
            const start = index * partSize;
            const body = await readExactly(handle, start, Math.min(partSize, size - start), localPath);
            const part = await this.client.send(
              new UploadPartCommand({
                Bucket: this.bucket,
                Key: objectKey,
                UploadId: uploadId,
                PartNumber: index + 1,
                Body: body,
              }),
            );
            if (part.ETag === undefined) throw new Error(`S3 returned no ETag for part ${index + 1} of ${objectKey}`);
            etags[index] = part.ETag;
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      // allSettled, not all: every sender must stop before the file closes and the upload aborts.
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(this.partConcurrency, partCount) }, sendParts),
      );
      const rejected = results.find((result) => result.status === 'rejected');
      if (rejected !== undefined) throw (rejected as PromiseRejectedResult).reason;

      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      );
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }))
        .catch(() => undefined); // the original error is the one worth reporting
      throw error;
    } finally {
      await file?.close();
    }
  }
}

async function readExactly(file: FileHandle, position: number, length: number, path: string): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`${path} shrank while being uploaded (short read at ${position + filled})`);
    filled += bytesRead;
  }
  return buffer;
}

async function bodyBytes(output: GetObjectCommandOutput): Promise<Buffer> {
  if (output.Body === undefined) return Buffer.alloc(0);
  const bytes = await output.Body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null
    ? (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    : undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`S3 option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
