import { BlendAccumulator, WeightTable } from '@fleet/blend';
import { offsetGeoTransform, type Block } from '@fleet/grid';
import { geometryOf, outputKeys, type BlockResult, type RunSpec, type RunState } from '@fleet/jobs';
import { CogWriter } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { classColorMap } from './palette';
import { WindowTileCache } from './window-tile-cache';

/** Output GeoTIFF tile size, also the unit the block is blended in. */
export const OUTPUT_TILE = 512;

export interface MergeBlockOptions {
  fetchParallel: number;
}

/**
 * Blends the windows covering one block into a Cloud Optimized GeoTIFF (tiled, Deflate,
 * internal mode overviews) with the mosaic's CRS and geotransform and the FLAIR palette, one
 * 512 px output tile at a time in row-major order (memory holds about two tile rows, not the
 * block), and counts pixels per class. Deterministic: the same tiles give
 * the same bytes, so a merge interrupted and redone writes an identical file.
 */
export async function mergeBlock(spec: RunSpec, block: Block, state: RunState, store: ObjectStore, options: MergeBlockOptions): Promise<BlockResult> {
  const started = performance.now();
  const geometry = geometryOf(spec);
  const weights = new WeightTable(spec.overlap);
  const classIds = spec.model.classes.map((c) => c.id);
  const cache = new WindowTileCache(store, state, spec.runId, options.fetchParallel);
  const key = outputKeys.block(spec.runId, block.id);
  const localPath = store.localPath(key);
  const tmpDir = localPath ? undefined : await mkdtemp(join(tmpdir(), 'fleet-merge-'));
  const path = localPath ?? join(tmpDir!, `${block.id}.tif`);
  await mkdir(dirname(path), { recursive: true });
  const classPixels = new Map<number, number>();
  let failedWindows = 0;

  const writer = await CogWriter.create(path, {
    width: block.width,
    height: block.height,
    tileSize: OUTPUT_TILE,
    geoTransform: offsetGeoTransform(spec.mosaic.geoTransform, block.x, block.y),
    epsg: spec.mosaic.epsg,
    noData: 0,
    colorMap: classColorMap(spec.model.classes),
    metadata: {
      FLAIR_MODEL: `${spec.model.name} ${spec.model.version}`,
      FLAIR_RUN: spec.runId,
      FLAIR_CLASSES: spec.model.classes.map((c) => `${c.id}:${c.name}`).join(';'),
    },
    bandDescriptions: ['FLAIR land-cover class'],
  });
  try {
    for (let ty = 0; ty < writer.tilesDown; ty++) {
      const rowRect = { x: block.x, y: block.y + ty * OUTPUT_TILE, width: block.width, height: Math.min(OUTPUT_TILE, block.height - ty * OUTPUT_TILE) };
      const rowWindows = geometry.windowsIn(rowRect);
      const loaded = await cache.load(rowWindows);
      for (let tx = 0; tx < writer.tilesAcross; tx++) {
        const rect = { x: block.x + tx * OUTPUT_TILE, y: rowRect.y, width: Math.min(OUTPUT_TILE, block.width - tx * OUTPUT_TILE), height: rowRect.height };
        const acc = new BlendAccumulator(rect.width, rect.height, classIds);
        for (const { window, tile } of loaded) {
          if (!tile || window.x >= rect.x + rect.width || window.x + window.width <= rect.x) continue;
          acc.add({
            width: tile.width,
            height: tile.height,
            argmax: tile.argmax,
            softIds: tile.softIds,
            softProbs: tile.softProbs,
            weightsX: weights.get(tile.width),
            weightsY: weights.get(tile.height),
            offsetX: window.x - rect.x,
            offsetY: window.y - rect.y,
          });
        }
        const classes = acc.resolve();
        for (const id of classes) if (id !== 0) classPixels.set(id, (classPixels.get(id) ?? 0) + 1);
        await writer.writeTile(tx, ty, toTile(classes, rect.width, rect.height));
      }
      cache.evictAbove(rowRect.y + rowRect.height, rowWindows);
    }
    failedWindows = await state.countFailed(geometry.windowsOfBlock(block));
    await writer.close();
    if (!localPath) await store.putFile(key, path);
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  } finally {
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
  }
  const head = await store.head(key);
  return {
    blockId: block.id,
    key,
    bytes: head?.size ?? 0,
    classPixels: Object.fromEntries([...classPixels].sort((a, b) => a[0] - b[0]).map(([id, n]) => [String(id), n])),
    failedWindows,
    mergeMs: Math.round(performance.now() - started),
  };
}

/** A region's class ids placed in a full output tile (edge tiles are padded with nodata). */
function toTile(classes: Uint8Array, width: number, height: number): Uint8Array {
  if (width === OUTPUT_TILE && height === OUTPUT_TILE) return classes;
  const tile = new Uint8Array(OUTPUT_TILE * OUTPUT_TILE);
  for (let y = 0; y < height; y++) tile.set(classes.subarray(y * width, (y + 1) * width), y * OUTPUT_TILE);
  return tile;
}
