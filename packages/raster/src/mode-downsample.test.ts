import { mode4, modeDownsample2x2 } from './mode-downsample';

describe('mode4', () => {
  it('keeps the majority class', () => {
    expect(mode4(3, 3, 3, 7)).toBe(3);
    expect(mode4(7, 3, 3, 3)).toBe(3);
    expect(mode4(5, 5, 5, 5)).toBe(5);
  });

  it('ignores nodata unless all four are nodata', () => {
    expect(mode4(0, 0, 0, 9)).toBe(9);
    expect(mode4(0, 0, 4, 4)).toBe(4);
    expect(mode4(0, 0, 0, 0)).toBe(0);
  });

  it('breaks ties by reading order, not by class id', () => {
    expect(mode4(9, 2, 2, 9)).toBe(9);
    expect(mode4(2, 9, 9, 2)).toBe(2);
    expect(mode4(0, 6, 1, 0)).toBe(6);
    expect(mode4(1, 2, 3, 4)).toBe(1);
  });
});

/** mode4's definition, spelt out by counting: the most frequent non-zero value, the first met on a tie. */
function countedMode(values: number[]): number {
  let best = 0;
  let bestCount = 0;
  for (const v of values) {
    const count = values.filter((w) => w === v).length;
    if (v !== 0 && count > bestCount) {
      best = v;
      bestCount = count;
    }
  }
  return best;
}

describe('mode4 against its definition', () => {
  it('agrees on every combination of four values among 0..4 (nodata and four classes)', () => {
    let checked = 0;
    for (let a = 0; a < 5; a++) {
      for (let b = 0; b < 5; b++) {
        for (let c = 0; c < 5; c++) {
          for (let d = 0; d < 5; d++) {
            expect([a, b, c, d, mode4(a, b, c, d)]).toEqual([a, b, c, d, countedMode([a, b, c, d])]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(625);
  });
});

describe('modeDownsample2x2', () => {
  it('halves an even strip cell by cell', () => {
    // 4x2 -> 2x1
    const src = Uint8Array.from([
      1, 1, 2, 0,
      1, 3, 0, 0,
    ]);
    expect([...modeDownsample2x2(src, 4, 2)]).toEqual([1, 2]);
  });

  it('treats pixels past an odd width or row count as nodata', () => {
    // 3x3 -> 2x2: the right column and bottom row form cut cells
    const src = Uint8Array.from([
      4, 4, 5,
      4, 6, 5,
      7, 0, 0,
    ]);
    expect([...modeDownsample2x2(src, 3, 3)]).toEqual([4, 5, 7, 0]);
  });

  it('refuses a strip shorter than its size says', () => {
    expect(() => modeDownsample2x2(new Uint8Array(5), 3, 2)).toThrow('strip has 5 bytes, expected 3x2');
  });
});
