import { expireRun, outputKeys, runSpecSchema, runTtlSeconds, type RunOutstanding, type RunSpec, type RunState } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';
import { classAreaRows, classAreasCsv, classAreasJson } from './class-areas';
import { readCurrentRun } from './current-run';
import { DEFAULT_KEEP_RUNS, publishRun } from './publish-run';
import { writeQuicklook } from './quicklook';
import { writeRunChanges, type PreviousRun } from './run-changes';
import { buildManifest, readManifest } from './run-manifest';
import { buildRunReport, type MaskTilesOutcome, type RunReport } from './run-report';
import { buildStacCatalogue } from './stac-catalogue';
import { sweepMaskTiles } from './tile-cleanup';

export interface FinalizeOptions {
  /** Keep the intermediate mask tiles (FLEET_KEEP_TILES=1). Default false: the rest are deleted. */
  keepTiles?: boolean;
  /** Seconds the run's Redis state lives once finished (0 = for ever). Default FLEET_RUN_TTL_DAYS (7 days). */
  runTtlSeconds?: number;
  /** Published runs kept whole (FLEET_KEEP_RUNS). Default 7. */
  keepRuns?: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n');

/**
 * Once every block is merged: the run's products under runs/<runId>/ (areas.csv/json, STAC
 * items, quicklook.png, changes.json/png against the published run, manifest.json, run.json),
 * then its publication (mosaic.vrt, stac/collection.json, current.json last: see publishRun)
 * and the retention of older runs. Until current.json is written the previous run's map stays
 * the published one, whatever fails here. Mask tiles left over are swept unless kept.
 * Idempotent: a retry rewrites the same files.
 */
export async function finalizeRun(spec: RunSpec, state: RunState, store: ObjectStore, options: FinalizeOptions = {}): Promise<RunReport> {
  // enqueued when the last block was recorded merged; Redis may since have lost windows'
  // completions (its last second of writes): those windows run again, and the run waits
  const before = await state.outstanding(spec.windowCount);
  if (before.windows > 0 || before.blocks > 0) throw new RunNotReadyError(spec.runId, before);
  const results = await state.blockResults();
  const keepTiles = options.keepTiles ?? false;
  const remaining = keepTiles ? (await store.list(outputKeys.maskTiles(spec.runId))).length : await sweepMaskTiles(spec, state, store);
  const maskTiles: MaskTilesOutcome = { removed: !keepTiles, remaining };
  const report = buildRunReport(spec, await state.stats(), await state.failures(), results, new Date(), maskTiles);

  const current = await readCurrentRun(store);
  // a retry of a run already published compares with the run it replaced, not with itself
  const previousRunId = current?.runId === spec.runId ? current.previous : (current?.runId ?? null);
  const previous = previousRunId === null ? undefined : await readPreviousRun(store, previousRunId);

  const rows = classAreaRows(report);
  await store.put(outputKeys.areasCsv(spec.runId), Buffer.from(classAreasCsv(rows)));
  await store.put(outputKeys.areasJson(spec.runId), json(classAreasJson(report, rows)));
  const changes = await writeRunChanges(spec, report, previous, store);
  const [collection, ...items] = buildStacCatalogue(spec, report, changes);
  for (const doc of items) await store.put(doc.key, json(doc.json));
  await writeQuicklook(spec, report, store);
  await store.put(outputKeys.manifest(spec.runId), json(buildManifest(spec, report, previous?.manifest.runId ?? null)));
  await store.put(outputKeys.runReport(spec.runId), json(report));

  await publishRun(spec, report, collection!, current, store, options.keepRuns ?? DEFAULT_KEEP_RUNS);
  const after = await state.finish(report, spec.windowCount);
  // lost in the meantime (rare: the loss came during this finalisation): the files above are
  // rewritten when the run is finalised again, current.json included
  if (after.windows > 0 || after.blocks > 0) throw new RunNotReadyError(spec.runId, after);
  // run.json is the record from here on: the Redis state goes after FLEET_RUN_TTL_DAYS
  await expireRun(state.redis, state.prefix, spec.runId, options.runTtlSeconds ?? runTtlSeconds());
  return report;
}

/** The run cannot be marked done yet: Redis does not record every window done or every block merged. */
export class RunNotReadyError extends Error {
  constructor(
    runId: string,
    readonly outstanding: RunOutstanding,
  ) {
    super(`run ${runId} is not ready to finalise: ${outstanding.windows} window(s) not recorded done, ${outstanding.blocks} block(s) not merged`);
    this.name = 'RunNotReadyError';
  }
}

/** The previous published run's manifest and spec; undefined when its manifest is gone. */
async function readPreviousRun(store: ObjectStore, runId: string): Promise<PreviousRun | undefined> {
  const manifest = await readManifest(store, runId);
  if (!manifest) return undefined;
  const key = outputKeys.runSpec(runId);
  try {
    const parsed = (await store.head(key)) ? runSpecSchema.safeParse(JSON.parse((await store.get(key)).toString('utf8'))) : undefined;
    return parsed?.success ? { manifest, spec: parsed.data } : { manifest };
  } catch {
    return { manifest };
  }
}
