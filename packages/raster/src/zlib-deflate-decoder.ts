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
    const out = await inflate(new Uint8Array(buffer));
    // geotiff.js views the result from byte 0: hand back an ArrayBuffer of exactly the data.
    return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength
      ? out.buffer
      : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}

let registered = false;

/** Makes geotiff.js decode Deflate (8) and old-style Deflate (32946) tiles with native zlib. Idempotent. */
export function registerZlibDeflateDecoder(): void {
  if (registered) return;
  // Decoding runs on libuv's pool, not geotiff.js's web-worker pool, so preferWorker is false.
  addDecoder([8, 32946], async () => ZlibDeflateDecoder, undefined, false);
  registered = true;
}
