import { refreshSpec, type PlannedRun } from '@fleet/coordinator';
import { outputKeys, runSpecSchema, type RunSpec } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type { RunReport } from '@fleet/merger';
import type { ObjectStore } from '@fleet/storage';
import { isUnchanged, publishedMapIntact, readPublishedReport, type UnchangedRun } from './published-run';
import { summariseRefresh } from './refresh-summary';

/** The spec a run kept at `_work/<run>/spec.json`, or undefined when it left none or it does not parse. */
export async function readKeptSpec(store: ObjectStore, runId: string): Promise<RunSpec | undefined> {
  const key = outputKeys.runSpec(runId);
  try {
    if ((await store.head(key)) === undefined) return undefined;
    const parsed = runSpecSchema.safeParse(JSON.parse((await store.get(key)).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The planned run as a refresh of the published one when that is safe (see refreshSpec), or
 * as it was (a full run), saying why in the log. A run already in Redis keeps the spec it was
 * created with (enqueueRun reads it back), so a resumed refresh stays the same refresh.
 */
export async function asRefreshOfPublished(store: ObjectStore, published: RunReport, planned: PlannedRun, log: Logger): Promise<PlannedRun> {
  const previous = await readKeptSpec(store, published.runId);
  if (!previous) {
    log.info({ previousRunId: published.runId }, 'full run: the published run kept no spec to compare with');
    return planned;
  }
  const decision = refreshSpec(planned, previous, published);
  if ('fullBecause' in decision) {
    log.info({ previousRunId: published.runId, because: decision.fullBecause }, 'full run: every window is inferred');
    return planned;
  }
  const { refresh } = decision;
  log.info(
    { previousRunId: refresh.previousRunId, reinfer: decision.planned.spec.windowCount, carriedWindows: refresh.carriedWindows, blocksRemerged: refresh.remerge.length, blocksCarried: refresh.carried.length },
    'refresh: only the windows meeting the changed pixels are inferred',
  );
  return decision.planned;
}

/** The output's published run, and whether the planned run is that run, unchanged. */
export interface PublishedLook {
  published: RunReport | undefined;
  /** Set when nothing changed since the published run (same run id, its map intact): nothing to do. */
  unchanged?: UnchangedRun;
}

/** Reads the published map (through current.json) and says whether the planned run is it, unchanged. */
export async function lookAtPublished(store: ObjectStore, planned: PlannedRun, explicitRunId: boolean): Promise<PublishedLook> {
  const published = await readPublishedReport(store);
  if (isUnchanged(published, planned.spec.runId, explicitRunId) && (await publishedMapIntact(store, published))) {
    return { published, unchanged: { runId: planned.spec.runId, published } };
  }
  return { published };
}

/**
 * A published complete run of other inputs makes the planned run a refresh of it when that is
 * safe (asRefreshOfPublished); what changed is logged either way. Otherwise the planned run.
 */
export async function refreshOfPublished(store: ObjectStore, published: RunReport | undefined, planned: PlannedRun, log: Logger): Promise<PlannedRun> {
  if (!published || published.runId === planned.spec.runId) return planned;
  await summariseRefresh(store, published.runId, planned.spec).then(
    (summary) => summary && log.info(summary, 'refresh against the published run'),
    // what changed tonight, for the log: not worth failing the run for
    (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'published run not compared'),
  );
  return published.complete ? asRefreshOfPublished(store, published, planned, log) : planned;
}

/**
 * The step `fleet enqueue` and each scheduled firing take between planning and enqueueing, as
 * `fleet run` does: nothing to do when nothing changed, a refresh when the published run allows
 * it, else the planned full run.
 */
export async function planAgainstPublished(store: ObjectStore, planned: PlannedRun, explicitRunId: boolean, log: Logger): Promise<{ planned: PlannedRun } | { unchanged: UnchangedRun }> {
  const look = await lookAtPublished(store, planned, explicitRunId);
  if (look.unchanged) return { unchanged: look.unchanged };
  return { planned: await refreshOfPublished(store, look.published, planned, log) };
}
