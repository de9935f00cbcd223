import { addDecoder, BaseDecoder } from 'geotiff';
import { promisify } from 'node:util';
import { inflate as inflateCallback } from 'node:zlib';

// The async API runs on libuv's thread pool: tiles of concurrent window reads inflate in
// parallel and the event loop (queue heartbeats, uploads) is not blocked meanwhile.
const inflate = promisify(inflateCallback);

/**
 * Deflate decoder for geotiff.js backed by Node's native zlib: geotiff.js's default uses
 * pako, a JavaScript port several times slower on large tiles. The predictor, if any, is
 * still applied by BaseDecoder.decode.
 */
export class ZlibDeflateDecoder extends BaseDecoder {
  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    // One output chunk the size of a whole block: with zlib's default 16 KiB chunks a 256 px
    // RGB tile takes 12 round trips to the thread pool and a concat, about 3x the CPU.
    const out = await inflate(new Uint8Array(buffer), { chunkSize: blockBytes(this.parameters) });
    // geotiff.js views the result from byte 0: hand back an ArrayBuffer of exactly the data.
    return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength
      ? out.buffer
      : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}

const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 16 * 1024 * 1024;

/** Decoded size of a full block, from the parameters geotiff.js gives every decoder. */
function blockBytes(p: BaseDecoder['parameters']): number {
  const bits = Array.isArray(p.bitsPerSample) || ArrayBuffer.isView(p.bitsPerSample) ? Array.from(p.bitsPerSample as ArrayLike<number>) : [Number(p.bitsPerSample)];
  const bytesPerPixel = p.planarConfiguration === 2 ? (bits[0] ?? 8) / 8 : bits.reduce((a, b) => a + b, 0) / 8;
  const size = Math.ceil(p.tileWidth * p.tileHeight * bytesPerPixel);
  return Number.isFinite(size) ? Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, size)) : MIN_CHUNK;
}

let registered = false;

/** Makes geotiff.js decode Deflate (8) and old-style Deflate (32946) tiles with native zlib. Idempotent. */
export function registerZlibDeflateDecoder(): void {
  if (registered) return;
  // Decoding runs on libuv's pool, not geotiff.js's web-worker pool, so preferWorker is false.
  addDecoder([8, 32946], async () => ZlibDeflateDecoder, undefined, false);
  registered = true;
}
