import { outputKeys, type RunSpec } from '@fleet/jobs';
import { openStoredRaster, type RasterFile } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { dalleChanges, type DalleChangesBySource } from './dalle-changes';
import { encodeRgbaPng } from './png-image';
import { addPixelChanges, emptyPixelChanges, hectaresOf, sumPixelChanges, type PixelChanges } from './pixel-changes';
import { QUICKLOOK_MAX_SIDE } from './quicklook';
import { quicklookScale, renderQuicklook } from './quicklook-image';
import type { RunManifest } from './run-manifest';
import type { RunReport } from './run-report';

/** Hectares gained and lost per class (class id -> ha). */
export interface BlockChange {
  gainedHa: Record<string, number>;
  lostHa: Record<string, number>;
  changedPixels: number;
  /** How the block compares: pixels read from both COGs, new tonight, gone tonight, or carried (same object). */
  status: 'compared' | 'added' | 'removed' | 'carried';
}

/** runs/<runId>/changes.json. */
export interface RunChanges {
  runId: string;
  /** The published run compared with; null on the first night (everything is gained). */
  previous: string | null;
  /** Per source, the dalles changed, added, removed (absent without identities on both sides). */
  dalles?: DalleChangesBySource;
  blocks: Record<string, BlockChange>;
  total: Omit<BlockChange, 'status'>;
  /** [minX, minY, maxX, maxY] of the mosaic in its CRS (EPSG `epsg`): where changes-mask.png lies. */
  extent: [number, number, number, number];
  epsg: number;
}

/** Lines of full-resolution pixels read at once (one output tile row). */
const ROWS = 512;

/** The previous published run, to compare with. */
export interface PreviousRun {
  manifest: RunManifest;
  /** Its spec, when it left one (to place its removed blocks on changes.png). */
  spec?: RunSpec;
}

/**
 * changes.json and changes.png of a run against the previous published run: every block's
 * full-resolution pixels compared with the previous run's block of the same id (same size),
 * row band by row band; a carried block (same object) has no change and is not read.
 */
export async function writeRunChanges(spec: RunSpec, report: RunReport, previous: PreviousRun | undefined, store: ObjectStore): Promise<RunChanges> {
  const pixelArea = Math.abs(spec.mosaic.geoTransform[1] * spec.mosaic.geoTransform[5]);
  const { factor, width, height } = quicklookScale(spec.mosaic.width, spec.mosaic.height, QUICKLOOK_MAX_SIDE);
  const where = new Uint8Array(width * height);
  const mark = (x0: number, y0: number, w: number, row: number, prev: Uint8Array | undefined, next: Uint8Array | undefined) => {
    for (let i = 0; i < w; i++) {
      if ((prev ? prev[i]! : 0) === (next ? next[i]! : 0)) continue;
      const cx = Math.floor((x0 + i) / factor);
      const cy = Math.floor((y0 + row) / factor);
      if (cx < width && cy < height) where[cy * width + cx] = 1;
    }
  };
  const blocksById = new Map(spec.blocks.map((b) => [b.id, b]));
  const prevKeys = previous?.manifest.blocks ?? {};
  const perBlock: Record<string, BlockChange> = {};
  const parts: PixelChanges[] = [];

  for (const result of report.blocks) {
    const block = blocksById.get(result.id);
    if (!block) throw new Error(`run ${spec.runId}: block ${result.id} was merged but is not in the run spec`);
    const prevKey = prevKeys[result.id];
    if (prevKey !== undefined && prevKey === result.key) {
      perBlock[result.id] = { gainedHa: {}, lostHa: {}, changedPixels: 0, status: 'carried' };
      continue;
    }
    const next = await openStoredRaster(store, result.key);
    const prev = prevKey !== undefined && (await store.head(prevKey)) ? await openStoredRaster(store, prevKey) : undefined;
    try {
      const comparable = prev && prev.width === next.width && prev.height === next.height ? prev : undefined;
      const c = emptyPixelChanges();
      // a previous block of another size is another block: all its pixels lost, all the new ones gained
      if (prev && !comparable) await eachBand(prev, (rows) => void addPixelChanges(c, rows, undefined));
      await eachBand(next, async (rows, y) => {
        const before = comparable ? (await comparable.readWindow({ x: 0, y, width: next.width, height: rows.length / next.width }, { bands: [0] }))[0]! : undefined;
        addPixelChanges(c, before, rows);
        for (let r = 0; r < rows.length / next.width; r++) {
          const o = r * next.width;
          mark(block.x, block.y + y, next.width, r, before?.subarray(o, o + next.width), rows.subarray(o, o + next.width));
        }
      });
      parts.push(c);
      perBlock[result.id] = { gainedHa: hectaresOf(c.gained, pixelArea), lostHa: hectaresOf(c.lost, pixelArea), changedPixels: c.changed, status: comparable ? 'compared' : 'added' };
    } finally {
      await next.close();
      await prev?.close();
    }
  }

  const nextIds = new Set(report.blocks.map((b) => b.id));
  for (const [id, key] of Object.entries(prevKeys)) {
    if (nextIds.has(id) || (await store.head(key)) === undefined) continue;
    const prev = await openStoredRaster(store, key);
    try {
      const c = emptyPixelChanges();
      const placed = previous?.spec?.blocks.find((b) => b.id === id);
      await eachBand(prev, (rows, y) => {
        addPixelChanges(c, rows, undefined);
        if (placed && previous?.spec?.mosaic.width === spec.mosaic.width && previous.spec.mosaic.height === spec.mosaic.height) {
          for (let r = 0; r < rows.length / prev.width; r++) mark(placed.x, placed.y + y, prev.width, r, rows.subarray(r * prev.width, (r + 1) * prev.width), undefined);
        }
      });
      parts.push(c);
      perBlock[id] = { gainedHa: {}, lostHa: hectaresOf(c.lost, pixelArea), changedPixels: c.changed, status: 'removed' };
    } finally {
      await prev.close();
    }
  }

  const total = sumPixelChanges(parts);
  const changes: RunChanges = {
    runId: spec.runId,
    previous: previous?.manifest.runId ?? null,
    ...(previous?.manifest.inputs && spec.inputs ? { dalles: dalleChanges(previous.manifest.inputs, spec.inputs) } : {}),
    blocks: Object.fromEntries(Object.entries(perBlock).sort((a, b) => a[0].localeCompare(b[0]))),
    total: { gainedHa: hectaresOf(total.gained, pixelArea), lostHa: hectaresOf(total.lost, pixelArea), changedPixels: total.changed },
    extent: mosaicExtent(spec.mosaic),
    epsg: spec.mosaic.epsg,
  };
  await store.put(outputKeys.changes(spec.runId), Buffer.from(JSON.stringify(changes, null, 2) + '\n'));

  const image = renderQuicklook(where, width, height, [{ id: 1, name: `changed since ${changes.previous ?? 'nothing (first run)'}`, rgb: [230, 0, 60] }]);
  await store.put(outputKeys.changesPng(spec.runId), encodeRgbaPng(image.rgba, image.width, image.height));
  await store.put(outputKeys.changesMask(spec.runId), changeMaskPng(where, width, height));
  return changes;
}

/** Pure: the mosaic's bounding box in its CRS from its north-up geotransform. */
export function mosaicExtent(mosaic: RunSpec['mosaic']): [number, number, number, number] {
  const [x0, pw, , y0, , ph] = mosaic.geoTransform;
  const x1 = x0 + pw * mosaic.width;
  const y1 = y0 + ph * mosaic.height;
  return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
}

/** Changed cells in the legend's red, the rest transparent: a PNG as wide as the downsampled mosaic. */
export function changeMaskPng(where: Uint8Array, width: number, height: number): Buffer {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    if (!where[i]) continue;
    rgba[i * 4] = 230;
    rgba[i * 4 + 2] = 60;
    rgba[i * 4 + 3] = 255;
  }
  return encodeRgbaPng(rgba, width, height);
}

/** Calls `each` with band 1's full-width pixels, ROWS lines at a time, top to bottom. */
async function eachBand(raster: RasterFile, each: (rows: Uint8Array, y: number) => void | Promise<void>): Promise<void> {
  for (let y = 0; y < raster.height; y += ROWS) {
    const h = Math.min(ROWS, raster.height - y);
    const [rows] = await raster.readWindow({ x: 0, y, width: raster.width, height: h }, { bands: [0] });
    await each(rows!, y);
  }
}
