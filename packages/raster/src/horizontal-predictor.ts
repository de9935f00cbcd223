/**
 * Undoes TIFF Predictor 2 (horizontal differencing) on 8-bit samples, in place: each sample
 * was stored as its difference from the same sample of the pixel to its left, so a row is a
 * running sum per sample, wrapping at 256 (as geotiff.js's Uint8Array sums do).
 *
 * `fleet prepare` writes Deflate with this predictor, so every block of a prepared source goes
 * through here once. One, three and four samples per pixel (single band, RGB/IRC, RGBA) keep
 * each sample's running sum in a local instead of reading back the byte just written: about
 * 1.7x faster on a 512 px RGB tile (BENCHMARKS.md issue 13). Other strides take the plain loop.
 * `only`: the samples the caller will read; the others are left as stored (garbage).
 */
export function undoHorizontalDifferencing(bytes: Uint8Array, rowBytes: number, stride: number, rows: number, only?: readonly number[]): void {
  if (rowBytes < stride) return;
  // the caller reads some samples only (an IRC tile read for its NIR): the others' sums are left undone
  const some = only !== undefined && only.length < stride ? only : undefined;
  for (let r = 0; r < rows; r++) {
    const start = r * rowBytes;
    const end = start + rowBytes;
    if (some) for (const sample of some) accumulateSample(bytes, start + sample, end, stride);
    else if (stride === 1) accumulate1(bytes, start, end);
    else if (stride === 3) accumulate3(bytes, start, end);
    else if (stride === 4) accumulate4(bytes, start, end);
    else for (let i = start + stride; i < end; i++) bytes[i] = bytes[i]! + bytes[i - stride]!;
  }
}

function accumulate1(b: Uint8Array, start: number, end: number): void {
  let x = b[start]!;
  for (let i = start + 1; i < end; i++) b[i] = x = (x + b[i]!) & 0xff;
}

/** `end - start` is a whole number of pixels (rows hold whole pixels). */
function accumulate3(b: Uint8Array, start: number, end: number): void {
  let x = b[start]!, y = b[start + 1]!, z = b[start + 2]!;
  for (let i = start + 3; i < end; i += 3) {
    b[i] = x = (x + b[i]!) & 0xff;
    b[i + 1] = y = (y + b[i + 1]!) & 0xff;
    b[i + 2] = z = (z + b[i + 2]!) & 0xff;
  }
}

function accumulate4(b: Uint8Array, start: number, end: number): void {
  let x = b[start]!, y = b[start + 1]!, z = b[start + 2]!, w = b[start + 3]!;
  for (let i = start + 4; i < end; i += 4) {
    b[i] = x = (x + b[i]!) & 0xff;
    b[i + 1] = y = (y + b[i + 1]!) & 0xff;
    b[i + 2] = z = (z + b[i + 2]!) & 0xff;
    b[i + 3] = w = (w + b[i + 3]!) & 0xff;
  }
}

/** One sample's running sum, every `stride` bytes from `first` to `end`. */
function accumulateSample(b: Uint8Array, first: number, end: number, stride: number): void {
  let x = b[first]!;
  for (let i = first + stride; i < end; i += stride) b[i] = x = (x + b[i]!) & 0xff;
}
