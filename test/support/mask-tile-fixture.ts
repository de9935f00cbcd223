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
