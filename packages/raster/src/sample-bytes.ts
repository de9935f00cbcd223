import { endianness } from 'node:os';

/** Word-wide loads and stores read bytes in memory order only on a little-endian CPU. */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Copies one byte-sized sample out of pixel-interleaved bytes: `out[i] = bytes[i * bytesPerPixel
 * + sample]` for `pixels` pixels.
 *
 * Three- and four-byte pixels (RGB, IRC, RGBA), the common interleaved tiles, go four pixels at
 * a time: three (or four) 32-bit loads and one 32-bit store instead of four byte loads and
 * stores, about 3x faster on a 256 px RGB tile (BENCHMARKS.md issue 13). Other layouts, a
 * big-endian CPU or unaligned buffers take the byte loop. Both give the same bytes.
 */
export function copySampleBytes(bytes: Uint8Array, bytesPerPixel: number, sample: number, out: Uint8Array | Int8Array, pixels: number): void {
  const target = new Uint8Array(out.buffer, out.byteOffset, pixels);
  let done = 0;
  if (LITTLE_ENDIAN && (bytesPerPixel === 3 || bytesPerPixel === 4) && bytes.byteOffset % 4 === 0 && target.byteOffset % 4 === 0) {
    const groups = pixels >>> 2;
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, groups * bytesPerPixel);
    const out32 = new Uint32Array(target.buffer, target.byteOffset, groups);
    if (bytesPerPixel === 3) fromThreeBytePixels(words, sample, out32, groups);
    else fromFourBytePixels(words, sample, out32, groups);
    done = groups * 4;
  }
  for (let i = done, j = done * bytesPerPixel + sample; i < pixels; i++, j += bytesPerPixel) target[i] = bytes[j]!;
}

/**
 * Four 3-byte pixels are three words; in memory order w0 = p0s0 p0s1 p0s2 p1s0,
 * w1 = p1s1 p1s2 p2s0 p2s1, w2 = p2s2 p3s0 p3s1 p3s2 (the low byte first).
 */
function fromThreeBytePixels(words: Uint32Array, sample: number, out: Uint32Array, groups: number): void {
  if (sample === 0) {
    for (let i = 0, j = 0; i < groups; i++, j += 3) {
      const w0 = words[j]!, w1 = words[j + 1]!, w2 = words[j + 2]!;
      out[i] = (w0 & 0xff) | (w0 >>> 24) << 8 | ((w1 >>> 16) & 0xff) << 16 | ((w2 >>> 8) & 0xff) << 24;
    }
  } else if (sample === 1) {
    for (let i = 0, j = 0; i < groups; i++, j += 3) {
      const w0 = words[j]!, w1 = words[j + 1]!, w2 = words[j + 2]!;
      out[i] = ((w0 >>> 8) & 0xff) | (w1 & 0xff) << 8 | (w1 >>> 24) << 16 | ((w2 >>> 16) & 0xff) << 24;
    }
  } else {
    for (let i = 0, j = 0; i < groups; i++, j += 3) {
      const w0 = words[j]!, w1 = words[j + 1]!, w2 = words[j + 2]!;
      out[i] = ((w0 >>> 16) & 0xff) | ((w1 >>> 8) & 0xff) << 8 | (w2 & 0xff) << 16 | (w2 >>> 24) << 24;
    }
  }
}

/** Four 4-byte pixels are four words, one pixel each; the sample is the same byte of each. */
function fromFourBytePixels(words: Uint32Array, sample: number, out: Uint32Array, groups: number): void {
  const shift = sample * 8;
  for (let i = 0, j = 0; i < groups; i++, j += 4) {
    out[i] = ((words[j]! >>> shift) & 0xff) | ((words[j + 1]! >>> shift) & 0xff) << 8 | ((words[j + 2]! >>> shift) & 0xff) << 16 | ((words[j + 3]! >>> shift) & 0xff) << 24;
  }
}
