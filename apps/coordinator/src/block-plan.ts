import { regularBlocks, type Block } from '@fleet/grid';
import type { LaidOutDalle } from '@fleet/raster';

/** Block id from a dalle's file name: BD ORTHO names are already unique and readable. */
function blockIdFor(uri: string): string {
  const base = uri.replace(/^.*\//, '').replace(/\.(tif|tiff)$/i, '');
  // leading dots become _: a dot-named dalle (`.hidden.tif`, `...tif`) must not give a hidden
  // block file, nor the id ".." (block ids name files and folders)
  return base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length)).slice(0, 120) || 'block';
}

/**
 * Output blocks: one per primary dalle by default (so each input dalle gets its map), or a
 * regular grid of `blockSize` pixels (for one big input file).
 */
export function planBlocks(primaryDalles: readonly LaidOutDalle[], width: number, height: number, blockSize?: number): Block[] {
  if (blockSize !== undefined) return regularBlocks(width, height, blockSize);
  const seen = new Map<string, number>();
  return primaryDalles.map((d) => {
    let id = blockIdFor(d.uri);
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    if (n > 0) id = `${id}-${n}`;
    return { id, x: d.x, y: d.y, width: d.width, height: d.height };
  });
}
