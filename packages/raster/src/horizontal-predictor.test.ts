import { undoHorizontalDifferencing } from './horizontal-predictor';

/** The definition, straight from the TIFF spec: a running sum per sample along each row, mod 256. */
function definition(bytes: Uint8Array, rowBytes: number, stride: number, rows: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let r = 0; r < rows; r++) for (let i = stride; i < rowBytes; i++) out[r * rowBytes + i] = (out[r * rowBytes + i]! + out[r * rowBytes + i - stride]!) % 256;
  return out;
}

describe('undoHorizontalDifferencing', () => {
  it.each([1, 2, 3, 4, 5])('gives the running sum per sample, wrapping at 256, for %i sample(s) per pixel', (stride) => {
    for (const width of [1, 2, 7, 64]) {
      const rows = 5;
      const rowBytes = width * stride;
      const bytes = Uint8Array.from({ length: rowBytes * rows + 3 }, (_, i) => (i * 97 + 13) & 0xff); // 3 bytes past the rows
      const expected = definition(bytes, rowBytes, stride, rows);
      undoHorizontalDifferencing(bytes, rowBytes, stride, rows);
      expect(Buffer.compare(bytes, expected)).toBe(0);
      expect(Array.from(bytes.subarray(rowBytes * rows))).toEqual(Array.from(expected.subarray(rowBytes * rows))); // untouched
    }
  });

  it('undoes only the samples asked for, leaving the others as stored', () => {
    const stride = 3, width = 9, rows = 4, rowBytes = width * stride;
    const stored = Uint8Array.from({ length: rowBytes * rows }, (_, i) => (i * 31 + 5) & 0xff);
    const expected = definition(stored, rowBytes, stride, rows);
    for (const only of [[0], [2], [0, 2]]) {
      const bytes = Uint8Array.from(stored);
      undoHorizontalDifferencing(bytes, rowBytes, stride, rows, only);
      bytes.forEach((v, i) => expect([i, v]).toEqual([i, only.includes(i % stride) ? expected[i] : stored[i]]));
    }
  });
});
