import { brotliCompressSync, brotliDecompressSync, crc32 } from 'node:zlib';
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

  it('encodes the same bytes off the main thread (async brotli)', async () => {
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

  /** A version 2 tile with the given stream after `bytes`' header, and a checksum that matches it. */
  function resealed(bytes: Buffer, stream: Buffer): Buffer {
    const out = Buffer.concat([bytes.subarray(0, 22), stream]);
    out.writeUInt32LE(crc32(stream, crc32(out.subarray(0, 18))), 18);
    return out;
  }

  it('writes version 2: the header, a CRC-32 of the header and the stream, then brotli', () => {
    const bytes = encodeMaskTile(tile);
    expect(bytes.readUInt8(4)).toBe(2);
    expect(bytes.readUInt32LE(18)).toBe(crc32(bytes.subarray(22), crc32(bytes.subarray(0, 18))));
    const body = brotliDecompressSync(bytes.subarray(22));
    expect(body.length).toBe(500 * 512 + (500 * 512 - 244 * 256) * 3);
    expect(resealed(bytes, bytes.subarray(22)).equals(bytes)).toBe(true);
  });

  it('refuses a tile whose stream or header no longer matches its CRC-32', () => {
    // a valid brotli stream of a body of the right length, other than the one sealed: brotli
    // alone would accept it, the CRC must not
    const bytes = encodeMaskTile(tile);
    const body = brotliDecompressSync(bytes.subarray(22));
    body[body.length - 1]! ^= 0x01;
    const swapped = Buffer.concat([bytes.subarray(0, 22), brotliCompressSync(body)]);
    expect(() => decodeMaskTile(swapped, 'runs/x/tiles/r1-c1.tile')).toThrow('runs/x/tiles/r1-c1.tile: corrupt body (CRC-32 mismatch)');
    expect(decodeMaskTile(resealed(bytes, brotliCompressSync(body)), 't').softProbs[1]![511 * 500 + 499]).toBe(tile.softProbs[1]![511 * 500 + 499]! ^ 0x01);
    // a header field changed (the core's height, still consistent with the size): caught too
    const header = Buffer.from(bytes);
    header.writeUInt16LE(255, 16);
    expect(() => decodeMaskTile(header, 't')).toThrow('t: corrupt body (CRC-32 mismatch)');
    expect(() => decodeMaskTile(bytes.subarray(0, 20), 't')).toThrow('t: corrupt body (no checksum)');
  });

  it('refuses a stream that decompresses to more bytes than the header allows', () => {
    const bytes = encodeMaskTile(tile);
    const body = brotliDecompressSync(bytes.subarray(22));
    const longer = resealed(bytes, brotliCompressSync(Buffer.concat([body, Buffer.alloc(5000)])));
    expect(() => decodeMaskTile(longer, 't')).toThrow(/^t: corrupt body \(/); // the output cap refuses it before the length check would
    const shorter = resealed(bytes, brotliCompressSync(body.subarray(1)));
    expect(() => decodeMaskTile(shorter, 't')).toThrow(`t: body holds ${body.length - 1} bytes, expected ${body.length}`);
  });

  it('refuses an unknown version', () => {
    const bytes = Buffer.from(encodeMaskTile(tile));
    bytes.writeUInt8(3, 4);
    expect(() => decodeMaskTile(bytes, 't')).toThrow('t: unsupported mask tile version 3');
  });
});

describe('mask tile codec: version 1 tiles (zlib, written before issue 13) still decode', () => {
  // Written by the version 1 encoder (commit f0bc2e3) from this very tile: a run started before
  // the upgrade leaves such tiles behind, and a newer merger must read them.
  const V1_BASE64 =
    'RkxNVAECBwAGAAIAAQADAAMAeAEFwbEKQQEUBuDOf/7/3I3cQZLJaJM3EB5BXomyWEy2O1it6i5Gy81AIbG5uyhZfB9ClAUNgjndDQqGBV3wEN3cLAD/3WfFIy/3r+33XVxX01O2yZeX4+d53q0Xt3J+CDACdBAmyl000gQQEF1ojlL2akRKqjLot8fVZBK0pNWIblIfdv4B8B5W';
  const tile = maskTileFromOutputs({ ...randomOutputs(8, 2, 7), patch: 8, k: 2, width: 7, height: 6, core: { x: 2, y: 1, width: 3, height: 3 } });
  const v1 = Buffer.from(V1_BASE64, 'base64');

  it('decodes to the tile it was written from, as the version 2 encoding does', () => {
    expect(v1.readUInt8(4)).toBe(1);
    expect(decodeMaskTile(v1, 'runs/old/tiles/r0-c0.tile')).toEqual(tile);
    expect(decodeMaskTile(encodeMaskTile(tile), 't')).toEqual(tile);
  });

  it('still refuses a damaged version 1 body (zlib\'s Adler-32)', () => {
    const damaged = Buffer.from(v1);
    damaged[damaged.length - 10]! ^= 0xff;
    expect(() => decodeMaskTile(damaged, 'runs/old/tiles/r0-c0.tile')).toThrow(/^runs\/old\/tiles\/r0-c0\.tile: corrupt body/);
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
