import type { MaskTile } from './mask-tile';
import { decodeMaskTile, encodeMaskTile, encodeMaskTileAsync, MaskTileFormatError } from './mask-tile-codec';
import { PlanePool } from './plane-pool';
import { maskTileFromOutputs } from './patch-outputs-to-mask';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Outputs shaped like the wrapped graph's for one patch: distinct ranked ids, decreasing probabilities. */
function randomOutputs(patch: number, k: number, seed: number): { classIds: Uint8Array; topIds: Uint8Array; topProbs: Uint8Array } {
  const rnd = seeded(seed);
  const plane = patch * patch;
  const classIds = new Uint8Array(plane);
  const topIds = new Uint8Array(k * plane);
  const topProbs = new Uint8Array(k * plane);
  for (let p = 0; p < plane; p++) {
    const ids = [1, 2, 3, 4, 5, 6].sort(() => rnd() - 0.5);
    let left = 255;
    for (let r = 0; r < k; r++) {
      const prob = r === 0 ? 128 + Math.floor(rnd() * 127) : Math.floor(rnd() * Math.min(left, topProbs[(r - 1) * plane + p]!));
      left -= prob;
      topIds[r * plane + p] = ids[r]!;
      topProbs[r * plane + p] = prob;
    }
    classIds[p] = ids[0]!;
  }
  return { classIds, topIds, topProbs };
}

describe('maskTileFromOutputs', () => {
  it('crops the patch outputs to the window; probabilities only outside the core', () => {
    const patch = 8;
    const out = randomOutputs(patch, 2, 1);
    const core = { x: 2, y: 2, width: 3, height: 3 };
    const tile = maskTileFromOutputs({ ...out, patch, k: 2, width: 6, height: 7, core });
    expect([tile.width, tile.height, tile.k]).toEqual([6, 7, 2]);
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 6; x++) {
        const o = y * 6 + x;
        const p = y * patch + x;
        const inCore = x >= 2 && x < 5 && y >= 2 && y < 5;
        expect(tile.argmax[o]).toBe(out.classIds[p]);
        for (let r = 0; r < 2; r++) {
          expect(tile.softIds[r]![o]).toBe(inCore ? 0 : out.topIds[r * 64 + p]);
          expect(tile.softProbs[r]![o]).toBe(inCore ? 0 : out.topProbs[r * 64 + p]);
        }
      }
    }
  });

  it('writes 0 (no data) where the input is invalid and keeps no probabilities there', () => {
    const out = randomOutputs(4, 2, 2);
    const valid = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    const tile = maskTileFromOutputs({ ...out, patch: 4, k: 2, width: 4, height: 4, core: { x: 0, y: 0, width: 0, height: 0 }, valid });
    valid.forEach((v, i) => {
      expect(tile.argmax[i] === 0).toBe(v === 0);
      expect(tile.softProbs[0]![i] === 0).toBe(v === 0);
      expect(tile.softIds[1]![i] === 0).toBe(v === 0);
    });
  });

  it('puts the argmax back at rank 0 where the ranking of tied probabilities disagrees with it', () => {
    // pixel 0: argmax 5 ranked second (equal probabilities); pixel 1: argmax 7 not ranked at all
    const classIds = Uint8Array.from([5, 7, 1, 1]);
    const topIds = Uint8Array.from([3, 3, 1, 1, /* rank 1 */ 5, 4, 2, 2]);
    const topProbs = Uint8Array.from([100, 90, 200, 200, /* rank 1 */ 100, 80, 10, 10]);
    const tile = maskTileFromOutputs({ classIds, topIds, topProbs, patch: 2, k: 2, width: 2, height: 2, core: { x: 0, y: 0, width: 0, height: 0 } });
    expect([...tile.softIds[0]!]).toEqual([5, 7, 1, 1]);
    expect([...tile.softIds[1]!]).toEqual([3, 4, 2, 2]);
    expect([...tile.softProbs[0]!]).toEqual([100, 90, 200, 200]);
    expect([...tile.softProbs[1]!]).toEqual([100, 80, 10, 10]);
  });

  it('rejects outputs of the wrong size', () => {
    const out = randomOutputs(4, 2, 3);
    expect(() => maskTileFromOutputs({ ...out, patch: 4, k: 3, width: 4, height: 4, core: { x: 0, y: 0, width: 0, height: 0 } })).toThrow(
      /expected 16 and 3 x 16/,
    );
    expect(() => maskTileFromOutputs({ ...out, patch: 4, k: 2, width: 5, height: 4, core: { x: 0, y: 0, width: 0, height: 0 } })).toThrow(
      /larger than the patch 4/,
    );
  });
});

describe('mask tile codec', () => {
  const tile = maskTileFromOutputs({ ...randomOutputs(512, 2, 3), patch: 512, k: 2, width: 500, height: 512, core: { x: 128, y: 128, width: 244, height: 256 } });

  it('round-trips every plane', () => {
    const bytes = encodeMaskTile(tile);
    const back = decodeMaskTile(bytes, 'tiles/r0-c0.tile');
    expect(back.width).toBe(500);
    expect(back.core).toEqual(tile.core);
    expect(Buffer.from(back.argmax).equals(Buffer.from(tile.argmax))).toBe(true);
    for (let r = 0; r < 2; r++) {
      expect(Buffer.from(back.softIds[r]!).equals(Buffer.from(tile.softIds[r]!))).toBe(true);
      expect(Buffer.from(back.softProbs[r]!).equals(Buffer.from(tile.softProbs[r]!))).toBe(true);
    }
  });

  it('encodes the same bytes off the main thread (async deflate)', async () => {
    const bytes = await encodeMaskTileAsync(tile);
    expect(bytes.equals(encodeMaskTile(tile))).toBe(true);
    expect(Buffer.from(decodeMaskTile(bytes, 't').softProbs[1]!).equals(Buffer.from(tile.softProbs[1]!))).toBe(true);
  });

  it('is smaller than the raw probabilities of every class', () => {
    const bytes = encodeMaskTile(tile);
    expect(bytes.length).toBeLessThan(500 * 512 * 3);
  });

  it('rejects damaged bytes with an error naming the object', () => {
    const bytes = encodeMaskTile(tile);
    const truncated = bytes.subarray(0, bytes.length - 100);
    expect(() => decodeMaskTile(truncated, 'runs/x/tiles/r0-c0.tile')).toThrow(MaskTileFormatError);
    expect(() => decodeMaskTile(truncated, 'runs/x/tiles/r0-c0.tile')).toThrow(/^runs\/x\/tiles\/r0-c0\.tile: corrupt body/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 200]! ^= 0xff;
    expect(() => decodeMaskTile(flipped, 't')).toThrow(/^t: corrupt body/);
    expect(() => decodeMaskTile(Buffer.from('hello world, not a tile'), 'x.tile')).toThrow('x.tile: not a flair-fleet mask tile (bad magic)');
  });
});

describe('decoding into pooled planes', () => {
  const tile = maskTileFromOutputs({ ...randomOutputs(512, 2, 3), patch: 512, k: 2, width: 500, height: 512, core: { x: 128, y: 128, width: 244, height: 256 } });
  const n = 500 * 512;
  const dirty = (): MaskTile => ({ ...tile, softIds: [new Uint8Array(n).fill(0xab), new Uint8Array(n).fill(0xcd)], softProbs: [new Uint8Array(n).fill(0xef), new Uint8Array(n).fill(7)] });

  it('gives the same planes from reused (dirty) planes as from new ones, and takes them from the pool', () => {
    const bytes = encodeMaskTile(tile);
    const pool = new PlanePool();
    pool.give(dirty());
    expect(pool.size).toBe(4);
    const pooled = decodeMaskTile(bytes, 't', pool);
    expect(pool.size).toBe(0);
    const fresh = decodeMaskTile(bytes, 't');
    for (let r = 0; r < 2; r++) {
      expect(Buffer.from(pooled.softIds[r]!).equals(Buffer.from(fresh.softIds[r]!))).toBe(true);
      expect(Buffer.from(pooled.softProbs[r]!).equals(Buffer.from(tile.softProbs[r]!))).toBe(true);
    }
    expect(Buffer.from(pooled.argmax).equals(Buffer.from(tile.argmax))).toBe(true);
  });

  it('hands out planes of the length asked only, and keeps no more bytes than its limit', () => {
    const pool = new PlanePool(3 * n + 1);
    expect(pool.take(n)).toBeUndefined();
    pool.give(dirty()); // 4 planes, 3 kept
    expect(pool.size).toBe(3);
    expect(pool.take(n - 1)).toBeUndefined();
    expect(pool.take(n)!.length).toBe(n);
    expect(pool.size).toBe(2);
  });
});
