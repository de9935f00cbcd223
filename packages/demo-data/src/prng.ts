/**
 * Seeded randomness for the synthetic landscape. Everything derives from the seed so a dalle can be
 * regenerated bit for bit on any machine (tests, demo, workers that re-create their input).
 */

// Module-local aliases: under jest's vm context every global lookup (Math, Infinity) goes through
// an interceptor and costs ~25x more in the per-pixel loops; plain Node is unaffected.
const { ceil, floor, imul } = Math;

/** mulberry32: tiny, fast, good enough for layout decisions; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit hash of a pixel and a salt: per-pixel noise without storing a random field. */
export function hash2(x: number, y: number, salt: number): number {
  let h = (imul(x, 0x27d4eb2d) ^ imul(y, 0x165667b1) ^ imul(salt, 0x9e3779b1)) >>> 0;
  h = imul(h ^ (h >>> 15), 0x85ebca6b);
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Smooth value noise in [-1, 1]: random values on a grid of `cell` pixels, bilinearly interpolated,
 * precomputed for the whole image because most pixels need it.
 */
export function valueNoise(width: number, height: number, cell: number, salt: number): Float32Array {
  const gw = ceil(width / cell) + 2;
  const gh = ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let j = 0; j < gh; j++) for (let i = 0; i < gw; i++) grid[j * gw + i] = (hash2(i, j, salt) / 2147483648) - 1;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const j = floor(gy);
    const fy = gy - j;
    const sy = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const i = floor(gx);
      const fx = gx - i;
      const sx = fx * fx * (3 - 2 * fx);
      const k = j * gw + i;
      const top = grid[k]! + (grid[k + 1]! - grid[k]!) * sx;
      const bottom = grid[k + gw]! + (grid[k + gw + 1]! - grid[k + gw]!) * sx;
      out[y * width + x] = top + (bottom - top) * sy;
    }
  }
  return out;
}
