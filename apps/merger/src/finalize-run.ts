import { outputKeys, type RunSpec, type RunState } from '@fleet/jobs';
import { buildMosaicVrt } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { classColorMap } from './palette';
import { buildRunReport, type RunReport } from './run-report';

/**
 * Once every block is merged: a GDAL VRT over all blocks (opens as one map in QGIS/GDAL) and
 * run.json (windows, timings, bytes, class areas). Idempotent: a retry rewrites the same files.
 */
export async function finalizeRun(spec: RunSpec, state: RunState, store: ObjectStore): Promise<RunReport> {
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
  const report = buildRunReport(spec, await state.stats(), await state.failures(), results, new Date());
  await store.put(outputKeys.runReport, Buffer.from(JSON.stringify(report, null, 2) + '\n'));
  await state.finish(report);
  return report;
}
