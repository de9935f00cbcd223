import { open, type FileHandle } from 'node:fs/promises';
import type { RangeReader } from './range-reader';

/**
 * A RangeReader over a local file. Used instead of geotiff.js's fromFile because that
 * source zero-fills reads past the end of the file, which hides truncation behind
 * confusing decode errors; this one reports short reads.
 */
export class LocalFileReader implements RangeReader {
  private handle: Promise<FileHandle> | undefined;

  constructor(readonly name: string) {}

  private file(): Promise<FileHandle> {
    this.handle ??= open(this.name, 'r');
    return this.handle;
  }

  async size(): Promise<number> {
    return (await (await this.file()).stat()).size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(length);
    await this.readInto(offset, buffer);
    return buffer;
  }

  async readInto(offset: number, buffer: Uint8Array): Promise<void> {
    const file = await this.file();
    const length = buffer.byteLength;
    let done = 0;
    while (done < length) {
      const { bytesRead } = await file.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new Error(`${this.name}: short read, ${done} of ${length} bytes at offset ${offset} (file shrank?)`);
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}
