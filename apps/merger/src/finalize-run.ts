import { expireRun, outputKeys, runTtlSeconds, type RunSpec, type RunState } from '@fleet/jobs';
import { buildMosaicVrt } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { classAreaRows, classAreasCsv, classAreasJson } from './class-areas';
import { classColorMap } from './palette';
import { writeQuicklook } from './quicklook';
import { buildRunReport, type MaskTilesOutcome, type RunReport } from './run-report';
import { buildStacCatalogue } from './stac-catalogue';
import { sweepMaskTiles } from './tile-cleanup';

export interface FinalizeOptions {
  /** Keep the intermediate mask tiles (FLEET_KEEP_TILES=1). Default false: the rest are deleted. */
  keepTiles?: boolean;
  /** Seconds the run's Redis state lives once finished (0 = for ever). Default FLEET_RUN_TTL_DAYS (7 days). */
  runTtlSeconds?: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n');

/**
 * Once every block is merged: a GDAL VRT over all blocks (opens as one map in QGIS/GDAL),
 * class areas (areas.csv, areas.json), a STAC catalogue, quicklook.png, and run.json last
 * (windows, timings, bytes, class areas), so its presence means every product is there.
 * Mask tiles left over are swept unless kept. Idempotent: a retry rewrites the same files.
 */
export async function finalizeRun(spec: RunSpec, state: RunState, store: ObjectStore, options: FinalizeOptions = {}): Promise<RunReport> {
  const results = await state.blockResults();
  const merged = new Set(results.map((r) => r.blockId));
  const vrt = buildMosaicVrt({
    width: spec.mosaic.width,
    height: spec.mosaic.height,
    geoTransform: spec.mosaic.geoTransform,
    epsg: spec.mosaic.epsg,
    noData: 0,
    colorMap: classColorMap(spec.model.classes),
    blocks: spec.blocks.filter((b) => merged.has(b.id)).map((b) => ({ path: outputKeys.block(b.id), x: b.x, y: b.y, width: b.width, height: b.height })),
  });
  await store.put(outputKeys.mosaicVrt, Buffer.from(vrt));

  const keepTiles = options.keepTiles ?? false;
  const remaining = keepTiles ? (await store.list(outputKeys.maskTiles(spec.runId))).length : await sweepMaskTiles(spec, state, store);
  const maskTiles: MaskTilesOutcome = { removed: !keepTiles, remaining };
  const report = buildRunReport(spec, await state.stats(), await state.failures(), results, new Date(), maskTiles);

  const rows = classAreaRows(report);
  await store.put(outputKeys.areasCsv, Buffer.from(classAreasCsv(rows)));
  await store.put(outputKeys.areasJson, json(classAreasJson(report, rows)));
  for (const doc of buildStacCatalogue(spec, report)) await store.put(doc.key, json(doc.json));
  await writeQuicklook(spec, report, store);

  await store.put(outputKeys.runReport, json(report));
  await state.finish(report);
  // run.json is the record from here on: the Redis state goes after FLEET_RUN_TTL_DAYS
  await expireRun(state.redis, state.prefix, spec.runId, options.runTtlSeconds ?? runTtlSeconds());
  return report;
}
