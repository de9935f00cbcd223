import { padToPatch } from './pad-to-patch';

describe('padToPatch', () => {
  it('places each band in the top-left corner of a zeroed patch', () => {
    const a = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const b = Uint8Array.from([7, 8, 9, 10, 11, 12]);
    const out = padToPatch([a, b], 3, 2, 4);
    expect([...out]).toEqual([
      1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      7, 8, 9, 0, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('copies full windows as they are', () => {
    const a = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect([...padToPatch([a], 4, 4, 4)]).toEqual([...a]);
  });

  it('hands on consecutive views of one buffer (the reader planes) without copying', () => {
    const pixels = Uint8Array.from({ length: 3 * 16 }, (_, i) => i);
    const planes = [0, 1, 2].map((b) => pixels.subarray(b * 16, (b + 1) * 16));
    const out = padToPatch(planes, 4, 4, 4);
    expect(out.buffer).toBe(pixels.buffer);
    expect([...out]).toEqual([...pixels]);
  });

  it('copies planes that are not consecutive views (a computed band, another order, a partial window)', () => {
    const pixels = Uint8Array.from({ length: 3 * 16 }, (_, i) => i);
    const views = [0, 1, 2].map((b) => pixels.subarray(b * 16, (b + 1) * 16));
    const computed = Uint8Array.from({ length: 16 }, () => 99);
    for (const planes of [[views[0]!, views[1]!, computed], [views[1]!, views[0]!, views[2]!]]) {
      const out = padToPatch(planes, 4, 4, 4);
      expect(out.buffer).not.toBe(pixels.buffer);
      expect([...out]).toEqual(planes.flatMap((p) => [...p]));
    }
    // a window smaller than the patch is padded whatever its planes' layout
    const small = Uint8Array.from({ length: 2 * 4 }, (_, i) => i + 1);
    const out = padToPatch([small.subarray(0, 4), small.subarray(4, 8)], 2, 2, 4);
    expect(out.buffer).not.toBe(small.buffer);
    expect([...out]).toEqual([1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6, 0, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
