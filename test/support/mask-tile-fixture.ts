import { exclusiveCore, type PlannedWindow, type WindowPlan } from '../../packages/grid/src';
import type { MaskTile } from '../../packages/tiles/src';

/**
 * A window's mask tile as a worker would store it for a map whose class at mosaic pixel
 * (x, y) is `classAt(x, y)`: every overlapping window agrees, so the blended block must equal
 * the map exactly. k = 1, full confidence outside the exclusive core.
 */
export function syntheticMaskTile(plan: WindowPlan, window: PlannedWindow, classAt: (x: number, y: number) => number): MaskTile {
  const core = exclusiveCore(plan, window);
  const n = window.width * window.height;
  const argmax = new Uint8Array(n);
  const probs = new Uint8Array(n);
  for (let y = 0; y < window.height; y++) {
    for (let x = 0; x < window.width; x++) {
      const i = y * window.width + x;
      argmax[i] = classAt(window.x + x, window.y + y);
      const inCore = x >= core.x && x < core.x + core.width && y >= core.y && y < core.y + core.height;
      probs[i] = inCore || argmax[i] === 0 ? 0 : 255;
    }
  }
  const ids = Uint8Array.from(argmax, (v, i) => (probs[i] === 0 ? 0 : v));
  return { width: window.width, height: window.height, core, k: 1, argmax, softIds: [ids], softProbs: [probs] };
}

/** A deterministic 32-bit hash of integers: the fixtures' stand-in for model noise. */
function mix(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) h = Math.imul(h ^ v, 0x85ebca6b) ^ (h >>> 13);
  return (Math.imul(h ^ (h >>> 16), 0xc2b2ae35) ^ (h >>> 15)) >>> 0;
}

/**
 * A window's mask tile with k = 2 where overlapping windows DISAGREE, as real ones do: per
 * pixel and window a hashed pair of classes out of `classes` and quantised probabilities,
 * with about 1 pixel in 16 a tie (both ranks 128), nodata (argmax 0) in the mosaic corner
 * below 40 px and in 1 pixel in 32 per window. A fixture that exercises every branch of the
 * blend (one window, several, ties, nodata) to pin the merger's output bytes.
 */
export function noisyMaskTile(plan: WindowPlan, window: PlannedWindow, classes: readonly number[]): MaskTile {
  const core = exclusiveCore(plan, window);
  const n = window.width * window.height;
  const argmax = new Uint8Array(n);
  const ids = [new Uint8Array(n), new Uint8Array(n)];
  const probs = [new Uint8Array(n), new Uint8Array(n)];
  for (let y = 0; y < window.height; y++) {
    for (let x = 0; x < window.width; x++) {
      const i = y * window.width + x;
      const mx = window.x + x;
      const my = window.y + y;
      const h = mix(mx, my, window.index);
      if ((mx < 40 && my < 40) || h % 32 === 0) continue; // nodata: zero everywhere
      // blobs of 32 px, and a window-dependent second opinion
      const first = classes[((mx >> 5) * 3 + (my >> 5) * 5 + (h % 7 === 0 ? 1 : 0)) % classes.length]!;
      const second = classes[(classes.indexOf(first) + 1 + ((h >>> 8) % (classes.length - 1))) % classes.length]!;
      argmax[i] = first;
      const inCore = x >= core.x && x < core.x + core.width && y >= core.y && y < core.y + core.height;
      if (inCore) continue;
      const tie = (h >>> 4) % 16 === 0;
      const p0 = tie ? 128 : 128 + ((h >>> 12) % 120);
      ids[0]![i] = first;
      probs[0]![i] = p0;
      ids[1]![i] = second;
      probs[1]![i] = tie ? 128 : 255 - p0;
    }
  }
  return { width: window.width, height: window.height, core, k: 2, argmax, softIds: ids, softProbs: probs };
}
