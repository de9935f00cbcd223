import { intersectRects, type Block, type PixelRect } from '@fleet/grid';
import { isReinferred, type RunSpec } from '@fleet/jobs';
import { openStoredRaster } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';

/**
 * Pure: in `classes` (the region `rect` of the mosaic, row-major, rect.width per row), every
 * pixel outside `changed` takes the class it has in `previous` (the block's full-resolution
 * band from the previous run, `block.width` per row, same block footprint). Those pixels'
 * covering windows saw the same inputs in both runs, so their blend is the previous one; the
 * pixels inside `changed` keep what was blended from tonight's tiles.
 */
export function carryUnchangedPixels(classes: Uint8Array, rect: PixelRect, previous: Uint8Array, block: Block, changed: readonly PixelRect[]): void {
  const inChanged = new Uint8Array(rect.width * rect.height);
  for (const c of changed) {
    const part = intersectRects(c, rect);
    if (!part) continue;
    for (let y = part.y - rect.y; y < part.y - rect.y + part.height; y++) inChanged.fill(1, y * rect.width + part.x - rect.x, y * rect.width + part.x - rect.x + part.width);
  }
  for (let y = 0; y < rect.height; y++) {
    const from = (rect.y + y - block.y) * block.width + (rect.x - block.x);
    for (let x = 0; x < rect.width; x++) {
      const i = y * rect.width + x;
      if (inChanged[i] === 0) classes[i] = previous[from + x]!;
    }
  }
}

/**
 * The carry step of a refresh's merge (see RunSpec.refresh): which windows have tiles tonight,
 * and the previous block's pixels to copy outside the changed pixels. Undefined for a full run.
 */
export class PixelCarry {
  private constructor(
    private readonly spec: RunSpec,
    private readonly block: Block,
    /** The previous block's classes; undefined when every pixel of the block is changed. */
    private readonly previous: Uint8Array | undefined,
  ) {}

  /**
   * Reads the previous run's block (full resolution, through the repo's GeoTIFF reader) before
   * anything is written: tonight's file may have the same key as the one read.
   */
  static async open(spec: RunSpec, block: Block, store: ObjectStore): Promise<PixelCarry | undefined> {
    const refresh = spec.refresh;
    if (!refresh) return undefined;
    // a block wholly inside one changed rectangle (a new or resized block) copies nothing
    const whole = refresh.changedPixels.some((c) => c.x <= block.x && c.y <= block.y && c.x + c.width >= block.x + block.width && c.y + c.height >= block.y + block.height);
    if (whole) return new PixelCarry(spec, block, undefined);
    // a carried block merged again (a retry reset a window it shares) copies from its carried file
    const key = refresh.remerge.find((r) => r.blockId === block.id)?.previousKey ?? refresh.carried.find((c) => c.blockId === block.id)?.key;
    if (!key) throw new Error(`run ${spec.runId}: block ${block.id} has pixels to carry over but the refresh names no previous file for it`);
    const raster = await openStoredRaster(store, key);
    try {
      if (raster.width !== block.width || raster.height !== block.height) {
        throw new Error(`${store.location}/${key}: previous block is ${raster.width}x${raster.height} px, block ${block.id} is ${block.width}x${block.height}`);
      }
      const [band] = await raster.readWindow({ x: 0, y: 0, width: block.width, height: block.height }, { bands: [0] });
      return new PixelCarry(spec, block, band!);
    } finally {
      await raster.close();
    }
  }

  /** Whether this window has a tile tonight (the others were not inferred again). */
  hasTile(window: PixelRect): boolean {
    return isReinferred(this.spec, window);
  }

  /** Copies the previous classes into `classes` (region `rect`) outside the changed pixels. */
  apply(classes: Uint8Array, rect: PixelRect): void {
    if (this.previous) carryUnchangedPixels(classes, rect, this.previous, this.block, this.spec.refresh!.changedPixels);
  }
}
