import type { PixelRect } from './geo-transform';

/** An output block: one GeoTIFF of the final map, by default the footprint of one input dalle. */
export interface Block extends PixelRect {
  /** Stable id, safe in object keys and BullMQ job ids (no ':'). */
  readonly id: string;
}

/**
 * Regular blocks of `size` pixels over the mosaic (the last row/column is cut at the edge),
 * for mosaics given as one big file where no dalle grid exists.
 */
export function regularBlocks(width: number, height: number, size: number): Block[] {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`block size must be a positive integer, got ${size}`);
  const blocks: Block[] = [];
  for (let y = 0, r = 0; y < height; y += size, r++) {
    for (let x = 0, c = 0; x < width; x += size, c++) {
      blocks.push({ id: `b${r}-${c}`, x, y, width: Math.min(size, width - x), height: Math.min(size, height - y) });
    }
  }
  return blocks;
}

