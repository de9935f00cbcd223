import { outputKeys, type RunSpec } from '@fleet/jobs';
import { buildMosaicVrt } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import type { CurrentRun } from './current-run';
import { classColorMap } from './palette';
import { readManifest } from './run-manifest';
import type { RunReport } from './run-report';
import { planRetention } from './run-retention';

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n');

/** Default FLEET_KEEP_RUNS: a week of nightly runs. */
export const DEFAULT_KEEP_RUNS = 7;

/**
 * Publishes a finished run whose products are all under runs/<runId>/: mosaic.vrt (relative
 * paths to each block's COG, a carried block's under its older run), the STAC collection, then
 * current.json last: until it is written the previous run stays the published one, and the
 * top-level files are rewritten only here, just before it. Then the objects of published runs
 * beyond the last `keepRuns` are deleted, except blocks a kept run's manifest references.
 * Returns the keys deleted.
 */
export async function publishRun(
  spec: RunSpec,
  report: RunReport,
  collection: { key: string; json: object },
  previous: CurrentRun | undefined,
  store: ObjectStore,
  keepRuns: number,
): Promise<{ current: CurrentRun; deleted: string[] }> {
  const vrt = buildMosaicVrt({
    width: spec.mosaic.width,
    height: spec.mosaic.height,
    geoTransform: spec.mosaic.geoTransform,
    epsg: spec.mosaic.epsg,
    noData: 0,
    colorMap: classColorMap(spec.model.classes),
    blocks: report.blocks.map((r) => {
      const b = spec.blocks.find((x) => x.id === r.id);
      if (!b) throw new Error(`run ${spec.runId}: block ${r.id} was merged but is not in the run spec`);
      return { path: r.key, x: b.x, y: b.y, width: b.width, height: b.height };
    }),
  });

  // the history counts published runs; a rerun of the published run does not count twice
  const history = [spec.runId, ...(previous?.history ?? []).filter((id) => id !== spec.runId)];
  const dropped = history.slice(keepRuns);
  const referenced = new Set<string>();
  for (const runId of history.slice(0, keepRuns)) {
    const manifest = runId === spec.runId ? undefined : await readManifest(store, runId);
    for (const key of runId === spec.runId ? report.blocks.map((b) => b.key) : Object.values(manifest?.blocks ?? {})) referenced.add(key);
  }
  const listed = new Map<string, string[]>();
  for (const runId of dropped) listed.set(runId, await store.list(outputKeys.runPrefix(runId)));
  const retention = planRetention({ history, keep: keepRuns, referenced, listed });

  await store.put(outputKeys.mosaicVrt, Buffer.from(vrt));
  await store.put(collection.key, json(collection.json));
  const current: CurrentRun = {
    runId: spec.runId,
    publishedAt: new Date().toISOString(),
    manifest: outputKeys.manifest(spec.runId),
    report: outputKeys.runReport(spec.runId),
    previous: previous && previous.runId !== spec.runId ? previous.runId : (previous?.previous ?? null),
    history: retention.history,
  };
  await store.put(outputKeys.current, json(current));

  // only once the new run is the published one: a failure here loses no map, and the next
  // publication lists the dropped runs again (they stay in its history while they hold objects)
  for (const key of retention.delete) await store.delete(key);
  return { current, deleted: retention.delete };
}
