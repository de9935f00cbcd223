import { BlendAccumulator, LEGACY_WINDOW_WEIGHTING, WeightTable } from '@fleet/blend';
import { offsetGeoTransform, type Block } from '@fleet/grid';
import { geometryOf, outputKeys, type BlockResult, type RunSpec, type RunState } from '@fleet/jobs';
import { CogWriter, type StageClock } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PixelCarry } from './carry-pixels';
import { classColorMap } from './palette';
import { WindowTileCache } from './window-tile-cache';

/** Output GeoTIFF tile size, also the unit the block is blended in. */
export const OUTPUT_TILE = 512;

/**
 * Deflate of the output tiles: run-length matching only. At zlib's default strategy, level 6,
 * compressing took more of a 25,000 px merge than blending (BENCHMARKS.md, "Merger"); a class
 * map's rows are runs of classes, which Z_RLE finds several times faster, for tiles somewhat
 * larger. Still ordinary Deflate: GDAL and every COG reader inflate it as before.
 */
export const OUTPUT_DEFLATE = { deflateLevel: 6, deflateStrategy: 'rle' } as const;

export interface MergeBlockOptions {
  fetchParallel: number;
  /**
   * Collects time per stage (fetch, decode, blend, argmax, encode, overviews, write) for benchmarks;
   * `blend` includes resolving each pixel's class, `argmax` is what follows (carried pixels, class counts).
   */
  clock?: StageClock;
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
  const weights = new WeightTable(spec.overlap, spec.weighting ?? LEGACY_WINDOW_WEIGHTING);
  const classIds = spec.model.classes.map((c) => c.id);
  const cache = new WindowTileCache(store, state, spec.runId, options.fetchParallel, options.clock);
  const clock = options.clock;
  const key = outputKeys.block(spec.runId, block.id);
  const localPath = store.localPath(key);
  const tmpDir = localPath ? undefined : await mkdtemp(join(tmpdir(), 'fleet-merge-'));
  const path = localPath ?? join(tmpDir!, `${block.id}.tif`);
  await mkdir(dirname(path), { recursive: true });
  // pixels per class id: a typed array, as a Map updated per pixel cost more than the blend
  const classPixels = new Float64Array(256);
  const classTallies = new Uint32Array(4 * 256);
  let failedWindows = 0;
  // one accumulator and one tile buffer for the whole block, reused tile after tile
  const acc = new BlendAccumulator(OUTPUT_TILE, OUTPUT_TILE, classIds);
  const classes = new Uint8Array(OUTPUT_TILE * OUTPUT_TILE);
  const padded = new Uint8Array(OUTPUT_TILE * OUTPUT_TILE);
  // a refresh: read the previous block before this merge may overwrite it
  const carry = await PixelCarry.open(spec, block, store);

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
    ...OUTPUT_DEFLATE,
  }, clock);
  try {
    const rowRectOf = (ty: number) => ({ x: block.x, y: block.y + ty * OUTPUT_TILE, width: block.width, height: Math.min(OUTPUT_TILE, block.height - ty * OUTPUT_TILE) });
    const windowsOfRow = (ty: number) => {
      const windows = geometry.windowsIn(rowRectOf(ty));
      return carry ? windows.filter((w) => carry.hasTile(w)) : windows;
    };
    for (let ty = 0; ty < writer.tilesDown; ty++) {
      const rowRect = rowRectOf(ty);
      const rowWindows = windowsOfRow(ty);
      let since = performance.now();
      const decodedBefore = clock?.ms.decode ?? 0;
      const loaded = await cache.load(rowWindows);
      // decoding runs inside load: what is left of its wall time is waiting for reads
      clock?.add('fetch', since + ((clock?.ms.decode ?? 0) - decodedBefore));
      // the next row's tiles are read from the store while this row is blended and written
      if (ty + 1 < writer.tilesDown) cache.prefetch(windowsOfRow(ty + 1));
      for (let tx = 0; tx < writer.tilesAcross; tx++) {
        const rect = { x: block.x + tx * OUTPUT_TILE, y: rowRect.y, width: Math.min(OUTPUT_TILE, block.width - tx * OUTPUT_TILE), height: rowRect.height };
        since = performance.now();
        acc.reset(rect.width, rect.height);
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
        // add() only records the windows: blending happens in resolve(), so both count as blend
        acc.resolve(classes);
        clock?.add('blend', since);
        since = performance.now();
        carry?.apply(classes, rect);
        countClasses(classes, rect.width * rect.height, classPixels, classTallies);
        clock?.add('argmax', since);
        // writeTile copies the tile before it resolves: the buffers are free again after it
        await writer.writeTile(tx, ty, toTile(classes, rect.width, rect.height, padded));
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
    classPixels: Object.fromEntries([...classPixels.keys()].filter((id) => id !== 0 && classPixels[id]! > 0).map((id) => [String(id), classPixels[id]!])),
    failedWindows,
    mergeMs: Math.round(performance.now() - started),
  };
}

/**
 * Adds the first `pixels` class ids to `counts` (a small function of its own: it stays
 * optimised). Tallied first as integers in four interleaved tables of `tallies` (4 x 256):
 * a class map is runs of one class, and with one table each increment waited for the previous
 * one to the same slot.
 */
function countClasses(classes: Uint8Array, pixels: number, counts: Float64Array, tallies: Uint32Array): void {
  tallies.fill(0);
  let i = 0;
  for (; i + 4 <= pixels; i += 4) {
    tallies[classes[i]!]!++;
    tallies[256 + classes[i + 1]!]!++;
    tallies[512 + classes[i + 2]!]!++;
    tallies[768 + classes[i + 3]!]!++;
  }
  for (; i < pixels; i++) tallies[classes[i]!]!++;
  for (let c = 0; c < 256; c++) counts[c]! += tallies[c]! + tallies[256 + c]! + tallies[512 + c]! + tallies[768 + c]!;
}

/** A region's class ids placed in a full output tile, `padded` (edge tiles are padded with nodata). */
function toTile(classes: Uint8Array, width: number, height: number, padded: Uint8Array): Uint8Array {
  if (width === OUTPUT_TILE && height === OUTPUT_TILE) return classes;
  padded.fill(0);
  for (let y = 0; y < height; y++) padded.set(classes.subarray(y * width, (y + 1) * width), y * OUTPUT_TILE);
  return padded;
}
