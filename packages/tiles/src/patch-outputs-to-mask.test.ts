import type { PixelRect } from '@fleet/grid';
import { inRect, type MaskTile } from './mask-tile';
import { decodeMaskTile, encodeMaskTile, encodeTileBodyAsync } from './mask-tile-codec';
import { maskTileFromOutputs, type PatchOutputsToMaskOptions } from './patch-outputs-to-mask';
import { tileBodyFromOutputs } from './tile-body-from-outputs';

/** The per-pixel version maskTileFromOutputs replaced (row runs instead): the oracle it must match. */
function perPixelReference(o: PatchOutputsToMaskOptions): MaskTile {
  const { patch, k, width, height, core, valid } = o;
  const plane = patch * patch;
  const n = width * height;
  const crop = (source: Uint8Array, offset: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let y = 0; y < height; y++) out.set(source.subarray(offset + y * patch, offset + y * patch + width), y * width);
    return out;
  };
  const argmax = crop(o.classIds, 0);
  const softIds = Array.from({ length: k }, (_, r) => crop(o.topIds, r * plane));
  const softProbs = Array.from({ length: k }, (_, r) => crop(o.topProbs, r * plane));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if ((valid && valid[i] === 0) || inRect(core, x, y)) {
        if (valid && valid[i] === 0) argmax[i] = 0;
        for (let r = 0; r < k; r++) softIds[r]![i] = softProbs[r]![i] = 0;
        continue;
      }
      if (softIds[0]![i] !== argmax[i]) {
        let j = 1;
        while (j < k && softIds[j]![i] !== argmax[i]) j++;
        if (j < k) {
          softIds[j]![i] = softIds[0]![i]!;
          const p = softProbs[j]![i]!;
          softProbs[j]![i] = softProbs[0]![i]!;
          softProbs[0]![i] = p;
        }
        softIds[0]![i] = argmax[i]!;
      }
    }
  }
  return { width, height, core, k, argmax, softIds, softProbs };
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Outputs where the ranking often disagrees with the argmax (ties), including argmax outside the top k. */
function tiedOutputs(patch: number, k: number, rnd: () => number, agree = false) {
  const plane = patch * patch;
  const classIds = new Uint8Array(plane);
  const topIds = new Uint8Array(k * plane);
  const topProbs = new Uint8Array(k * plane);
  for (let p = 0; p < plane; p++) {
    const ids = [1, 2, 3, 4, 5, 6, 7].sort(() => rnd() - 0.5);
    for (let r = 0; r < k; r++) {
      topIds[r * plane + p] = ids[r]!;
      topProbs[r * plane + p] = Math.floor(rnd() * 256);
    }
    // mostly rank 0, sometimes another rank, sometimes a class not ranked at all
    const pick = rnd();
    classIds[p] = agree || pick < 0.6 ? ids[0]! : pick < 0.9 ? ids[Math.floor(rnd() * k)]! : ids[k]!;
  }
  return { classIds, topIds, topProbs };
}

const cases: Array<{ name: string; patch: number; width: number; height: number; k: number; core: PixelRect; holes: number; agree?: boolean }> = [
    { name: 'no ties: rank 0 is the argmax everywhere', patch: 16, width: 15, height: 16, k: 2, core: { x: 4, y: 4, width: 8, height: 8 }, holes: 0, agree: true },
    { name: 'no ties, k = 3, with holes', patch: 16, width: 16, height: 14, k: 3, core: { x: 0, y: 6, width: 8, height: 8 }, holes: 0.2, agree: true },
    { name: 'full window, centred core', patch: 16, width: 16, height: 16, k: 2, core: { x: 4, y: 4, width: 8, height: 8 }, holes: 0 },
    { name: 'edge window, core touching two sides', patch: 16, width: 11, height: 9, k: 3, core: { x: 0, y: 3, width: 8, height: 6 }, holes: 0 },
    { name: 'core covering the whole window', patch: 8, width: 8, height: 8, k: 2, core: { x: 0, y: 0, width: 8, height: 8 }, holes: 0 },
    { name: 'empty core (width 0)', patch: 8, width: 7, height: 8, k: 2, core: { x: 3, y: 2, width: 0, height: 4 }, holes: 0 },
    { name: 'empty core (height 0)', patch: 8, width: 8, height: 5, k: 2, core: { x: 3, y: 2, width: 4, height: 0 }, holes: 0 },
    { name: 'no-data holes inside and outside the core', patch: 16, width: 16, height: 13, k: 2, core: { x: 5, y: 0, width: 6, height: 10 }, holes: 0.3 },
    { name: 'no data everywhere', patch: 8, width: 8, height: 8, k: 1, core: { x: 2, y: 2, width: 2, height: 2 }, holes: 1 },
    { name: 'k = 3 with holes and a core at the corner', patch: 16, width: 14, height: 16, k: 3, core: { x: 6, y: 8, width: 8, height: 8 }, holes: 0.2 },
  ];

function caseOptions({ patch, width, height, k, core, holes, agree }: (typeof cases)[number]) {
  const rnd = seeded(patch * 131 + width * 7 + height + k);
  const out = tiedOutputs(patch, k, rnd, agree);
  const valid = holes > 0 ? Uint8Array.from({ length: width * height }, () => (rnd() < holes ? 0 : 1)) : undefined;
  return { out, options: { ...out, patch, k, width, height, core, ...(valid ? { valid } : {}) } };
}

describe('maskTileFromOutputs (row runs) matches the per-pixel reference', () => {
  it.each(cases)('$name', (c) => {
    const { out, options } = caseOptions(c);
    const inputs = [out.classIds.slice(), out.topIds.slice(), out.topProbs.slice()];
    expect(maskTileFromOutputs(options)).toEqual(perPixelReference(options));
    // the model's outputs are views the engine shares between windows: never written
    expect([out.classIds, out.topIds, out.topProbs]).toEqual(inputs);
  });
});

describe('tileBodyFromOutputs: the tile bytes straight from the outputs', () => {
  it.each(cases)('$name: the same bytes as encoding maskTileFromOutputs', async (c) => {
    const { out, options } = caseOptions(c);
    const inputs = [out.classIds.slice(), out.topIds.slice(), out.topProbs.slice()];
    const { shape, body } = tileBodyFromOutputs(options);
    const bytes = await encodeTileBodyAsync(shape, body);
    const viaTile = encodeMaskTile(maskTileFromOutputs(options));
    expect(bytes.equals(viaTile)).toBe(true);
    expect(decodeMaskTile(bytes, 't')).toEqual(perPixelReference(options));
    expect([out.classIds, out.topIds, out.topProbs]).toEqual(inputs);
  });

  it.each(cases)('$name: the same body written into a reused, dirty, longer buffer', (c) => {
    const { options } = caseOptions(c);
    const fresh = tileBodyFromOutputs(options).body;
    // a buffer last used for another window: every byte must be overwritten, none read
    const into = new Uint8Array(fresh.length + 100).fill(0xab);
    const { body } = tileBodyFromOutputs(options, into);
    expect(body.buffer).toBe(into.buffer);
    expect(Buffer.from(body).equals(Buffer.from(fresh))).toBe(true);
    // too short a buffer is not written: a fresh one is returned
    const short = new Uint8Array(fresh.length - 1);
    expect(tileBodyFromOutputs(options, short).body.buffer).not.toBe(short.buffer);
  });

  it('refuses outputs of the wrong size, and a body of the wrong length', async () => {
    const { options } = caseOptions(cases[0]!);
    expect(() => tileBodyFromOutputs({ ...options, k: 3 })).toThrow(/expected 256 and 3 x 256/);
    const { shape, body } = tileBodyFromOutputs(options);
    await expect(encodeTileBodyAsync(shape, body.subarray(1))).rejects.toThrow(/mask tile body has \d+ bytes, expected \d+/);
  });
});
