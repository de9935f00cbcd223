import { copySampleBytes } from './sample-bytes';

/** The definition: one byte per pixel, every `bytesPerPixel` bytes from `sample`. */
function byteLoop(bytes: Uint8Array, bytesPerPixel: number, sample: number, pixels: number): Uint8Array {
  return Uint8Array.from({ length: pixels }, (_, i) => bytes[i * bytesPerPixel + sample]!);
}

describe('copySampleBytes', () => {
  const interleaved = (pixels: number, bytesPerPixel: number, lead = 0) => {
    const buffer = new Uint8Array(lead + pixels * bytesPerPixel + 8);
    for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 37 + 11) & 0xff;
    return buffer.subarray(lead, lead + pixels * bytesPerPixel);
  };

  it.each([1, 2, 3, 4, 5])('gives the byte loop for every sample of %i-byte pixels, whole and partial groups of 4', (bytesPerPixel) => {
    for (const pixels of [0, 1, 3, 4, 5, 7, 64, 65, 66, 67, 4099]) {
      const bytes = interleaved(pixels, bytesPerPixel);
      for (let sample = 0; sample < bytesPerPixel; sample++) {
        const out = new Uint8Array(pixels);
        copySampleBytes(bytes, bytesPerPixel, sample, out, pixels);
        expect(Buffer.compare(out, byteLoop(bytes, bytesPerPixel, sample, pixels))).toBe(0);
      }
    }
  });

  it('gives the same bytes from unaligned input or output (the byte loop then)', () => {
    for (const lead of [1, 2, 3]) {
      const bytes = interleaved(101, 3, lead);
      const target = new Uint8Array(101 + lead).subarray(lead);
      copySampleBytes(bytes, 3, 2, target, 101);
      expect(Buffer.compare(target, byteLoop(bytes, 3, 2, 101))).toBe(0);
    }
  });

  it('writes the bytes, as two\'s complement, into an Int8Array plane', () => {
    const bytes = interleaved(40, 4);
    const out = new Int8Array(40);
    copySampleBytes(bytes, 4, 1, out, 40);
    expect(Buffer.compare(new Uint8Array(out.buffer), byteLoop(bytes, 4, 1, 40))).toBe(0);
    expect(out.some((v) => v < 0)).toBe(true);
  });

  it('leaves the output beyond `pixels` untouched', () => {
    const bytes = interleaved(16, 3);
    const out = new Uint8Array(20).fill(0xee);
    copySampleBytes(bytes, 3, 0, out, 13);
    expect(Array.from(out.subarray(13))).toEqual([0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
  });
});
