import { refreshSpec, type PlannedRun } from '@fleet/coordinator';
import { outputKeys, runSpecSchema, type RunSpec } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type { RunReport } from '@fleet/merger';
import type { ObjectStore } from '@fleet/storage';

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
