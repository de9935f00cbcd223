import { BaseClient, BaseResponse } from 'geotiff';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';

/** What a 206 Partial Content reply carries, as geotiff.js's RemoteSource reads it. */
class RangeResponse extends BaseResponse {
  constructor(
    private readonly data: ArrayBuffer,
    private readonly contentRange: string,
  ) {
    super();
  }

  override get status(): number {
    return 206;
  }

  override getHeader(name: string): string | undefined {
    return name.toLowerCase() === 'content-range' ? this.contentRange : undefined;
  }

  override async getData(): Promise<ArrayBuffer> {
    return this.data;
  }
}

/**
 * Serves geotiff.js's HTTP-style Range requests (fromCustomClient) from a RangeReader, so one
 * code path reads local files and remote objects. Like an HTTP server, a range running past
 * the end is clamped (geotiff.js reads the header and IFDs speculatively in 1 KiB chunks);
 * a range starting at or past the end means the file is truncated.
 */
export class RangeReaderClient extends BaseClient {
  /** Errors thrown by the reader itself (network, disk): transient, not the file's fault. */
  readonly readerErrors = new WeakSet<object>();

  constructor(
    private readonly reader: RangeReader,
    private readonly fileSize: number,
  ) {
    super(reader.name);
  }

  override async request(options?: RequestInit): Promise<BaseResponse> {
    const range = new Headers(options?.headers).get('range') ?? '';
    const match = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (!match) throw new Error(`${this.reader.name}: unsupported range request "${range}"`);
    const start = Number(match[1]);
    const end = Math.min(Number(match[2]), this.fileSize - 1);
    if (start >= this.fileSize) {
      throw new RasterError(
        this.reader.name,
        `truncated file: data expected at byte ${start} but the file is ${this.fileSize} bytes long`,
      );
    }
    const data = await this.read(start, end - start + 1);
    const exact = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const buffer = exact
      ? (data.buffer as ArrayBuffer)
      : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    return new RangeResponse(buffer, `bytes ${start}-${end}/${this.fileSize}`);
  }

  /** The reader's bytes, its errors marked as the reader's (see `readerErrors`). */
  async read(offset: number, length: number): Promise<Uint8Array> {
    try {
      return await this.reader.read(offset, length);
    } catch (err) {
      return this.rethrow(err);
    }
  }

  /** Whether `readInto` fills a caller's buffer (the reader can) rather than allocating. */
  get canReadInto(): boolean {
    return this.reader.readInto !== undefined;
  }

  /** The reader's readInto when it has one, else its read copied into `target`. */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    if (!this.reader.readInto) {
      target.set(await this.read(offset, target.byteLength));
      return;
    }
    try {
      await this.reader.readInto(offset, target);
    } catch (err) {
      this.rethrow(err);
    }
  }

  private rethrow(err: unknown): never {
    if (typeof err === 'object' && err !== null) this.readerErrors.add(err);
    throw err;
  }
}
