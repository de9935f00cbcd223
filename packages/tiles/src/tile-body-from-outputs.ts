import { forEachSoftRun, softPixelCount, tileBodyLength, type MaskTileShape } from './mask-tile-codec';
import { checkPatchOutputs, type PatchOutputsToMaskOptions } from './patch-outputs-to-mask';

/**
 * The uncompressed mask tile body (mask-tile-codec.ts's layout: argmax of every pixel, then
 * for the soft pixels the rank-0 probability, then id and probability of each further rank)
 * written straight from one patch's model outputs: the same bytes as
 * `tileBody(maskTileFromOutputs(o))`, without the five window-sized planes of a MaskTile in
 * between (the worker only uploads the bytes; the merger decodes them to a MaskTile).
 *
 * `into`, when long enough, receives the body (the returned `body` is a view of its start), so a
 * worker can reuse one ~0.85 MB buffer per window in flight instead of leaving one to the garbage
 * collector per window. Every byte of the body is written, so it need not be cleared.
 */
export function tileBodyFromOutputs(o: PatchOutputsToMaskOptions, into?: Uint8Array): { shape: MaskTileShape; body: Uint8Array } {
  checkPatchOutputs(o);
  const { patch, k, width, height, core, valid } = o;
  const plane = patch * patch;
  const shape: MaskTileShape = { width, height, core, k };
  const n = width * height;
  const soft = softPixelCount(shape);
  const length = tileBodyLength(shape);
  const body = into !== undefined && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
  for (let y = 0; y < height; y++) body.set(o.classIds.subarray(y * patch, y * patch + width), y * width);
  // Where each stored plane starts: probabilities of rank 0, then ids and probabilities of rank 1.. k-1.
  const probsAt = (r: number): number => n + (r === 0 ? 0 : soft * (2 * r));
  const idsAt = (r: number): number => n + soft * (2 * r - 1);
  // Float32 ties are rare: when the ranking's first id is the argmax everywhere (one memcmp of
  // the two planes), the per-pixel fix-up below has nothing to do and is skipped.
  const ranksAgree = sameBytes(o.classIds.subarray(0, plane), o.topIds.subarray(0, plane));
  let s = 0;
  forEachSoftRun(shape, (from, length) => {
    const y = Math.floor(from / width);
    const src = y * patch + (from - y * width);
    for (let r = 0; r < k; r++) {
      body.set(o.topProbs.subarray(r * plane + src, r * plane + src + length), probsAt(r) + s);
      if (r > 0) body.set(o.topIds.subarray(r * plane + src, r * plane + src + length), idsAt(r) + s);
    }
    for (let p = 0; !ranksAgree && p < length; p++) {
      const id = body[from + p]!;
      const id0 = o.topIds[src + p]!;
      if (id0 === id) continue;
      // Rank 0 must be the argmax (its id is not stored): where float32 ties ranked another
      // class first, swap it back, as maskTileFromOutputs does.
      let j = 1;
      while (j < k && body[idsAt(j) + s + p] !== id) j++;
      if (j < k) {
        body[idsAt(j) + s + p] = id0;
        const q = body[probsAt(j) + s + p]!;
        body[probsAt(j) + s + p] = body[probsAt(0) + s + p]!;
        body[probsAt(0) + s + p] = q;
      }
    }
    s += length;
  });
  if (valid) zeroNoData(shape, body, valid, soft);
  return { shape, body };
}

/** Byte equality of two arrays, by the native comparison rather than a JavaScript loop. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** No-data pixels: class 0, and no ids or probabilities where they are soft. */
function zeroNoData(shape: MaskTileShape, body: Uint8Array, valid: Uint8Array, soft: number): void {
  const n = shape.width * shape.height;
  if (valid.indexOf(0) === -1) return;
  for (let i = valid.indexOf(0); i !== -1; i = valid.indexOf(0, i + 1)) body[i] = 0;
  let s = 0;
  forEachSoftRun(shape, (from, length) => {
    for (let p = 0; p < length; p++) {
      if (valid[from + p] === 0) for (let at = n + s + p; at < body.length; at += soft) body[at] = 0;
    }
    s += length;
  });
}
