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
});
