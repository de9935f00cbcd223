import { decodeMaskTile, encodeMaskTile, MaskTileFormatError } from './mask-tile-codec';
import { logitsToMaskTile } from './logits-to-mask';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const classes = [
  { logit: 0, id: 1 },
  { logit: 1, id: 2 },
  { logit: 3, id: 4 }, // logit 2 is switched off: it must never win
];

function randomLogits(patch: number, L: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  return Float32Array.from({ length: L * patch * patch }, () => rnd() * 8 - 4);
}

describe('logitsToMaskTile', () => {
  it('takes softmax, argmax and top-k over the enabled logits only', () => {
    const patch = 8;
    const logits = randomLogits(patch, 4, 1);
    // make the disabled logit huge everywhere: it must be ignored
    logits.fill(100, 2 * 64, 3 * 64);
    const core = { x: 2, y: 2, width: 3, height: 3 };
    const tile = logitsToMaskTile({ logits, patch, classes, width: 6, height: 7, core, k: 2 });
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 6; x++) {
        const v = classes.map((c) => logits[c.logit * 64 + y * patch + x]!);
        const max = Math.max(...v);
        const e = v.map((a) => Math.exp(a - max));
        const sum = e.reduce((a, b) => a + b);
        const order = [0, 1, 2].sort((a, b) => e[b]! - e[a]! || a - b);
        const o = y * 6 + x;
        expect(tile.argmax[o]).toBe(classes[order[0]!]!.id);
        const inCore = x >= 2 && x < 5 && y >= 2 && y < 5;
        expect(tile.softIds[0]![o]).toBe(inCore ? 0 : classes[order[0]!]!.id);
        expect(tile.softIds[1]![o]).toBe(inCore ? 0 : classes[order[1]!]!.id);
        expect(tile.softProbs[1]![o]).toBe(inCore ? 0 : Math.round((e[order[1]!]! / sum) * 255));
      }
    }
  });

  it('writes 0 (no data) where the input is invalid and keeps no probabilities there', () => {
    const logits = randomLogits(4, 4, 2);
    const valid = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    const tile = logitsToMaskTile({ logits, patch: 4, classes, width: 4, height: 4, core: { x: 0, y: 0, width: 0, height: 0 }, valid });
    valid.forEach((v, i) => {
      expect(tile.argmax[i] === 0).toBe(v === 0);
      expect(tile.softProbs[0]![i] === 0).toBe(v === 0);
    });
  });
});

describe('mask tile codec', () => {
  const logits = randomLogits(512, 4, 3);
  const tile = logitsToMaskTile({ logits, patch: 512, classes, width: 500, height: 512, core: { x: 128, y: 128, width: 244, height: 256 }, k: 2 });

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
