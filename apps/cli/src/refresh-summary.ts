import { refreshAgainst } from '@fleet/coordinator';
import { outputKeys, runSpecSchema, type RunSpec } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';

/** What changed since the published run, and what the refresh plan recomputes (see planRefresh). */
export interface RefreshSummary {
  previousRunId: string;
  /** `source/key` of the dalles whose version changed, that are new, that are gone. */
  changed: string[];
  added: string[];
  removed: string[];
  /** Why every pixel is recomputed (the model's bytes, the geometry), when it is. */
  everythingBecause?: string;
  /** Windows of this run (all of them are inferred by this version). */
  windows: number;
  /** Windows the refresh plan re-infers: those meeting the changed pixels. */
  reinferPlanned: number;
  blocksRemerged: number;
  blocksCarried: number;
}

/**
 * The published run's spec (`_work/<run>/spec.json`) compared with the planned run's, or
 * undefined when the published run left none (planned before specs were kept) or it does not
 * parse: then there is nothing to compare with, and the run is a full one as always.
 */
export async function summariseRefresh(store: ObjectStore, previousRunId: string, next: RunSpec): Promise<RefreshSummary | undefined> {
  const key = outputKeys.runSpec(previousRunId);
  if ((await store.head(key)) === undefined) return undefined;
  let previous: RunSpec;
  try {
    const parsed = runSpecSchema.safeParse(JSON.parse((await store.get(key)).toString('utf8')));
    if (!parsed.success) return undefined;
    previous = parsed.data;
  } catch {
    return undefined;
  }
  const { plan, everythingBecause } = refreshAgainst(previous, next);
  const name = (d: { source: string; uri: string }) => `${d.source}/${d.uri}`;
  return {
    previousRunId,
    changed: plan.dalles.changed.map(name),
    added: plan.dalles.added.map(name),
    removed: plan.dalles.removed.map(name),
    ...(everythingBecause === undefined ? {} : { everythingBecause }),
    windows: next.windowCount,
    reinferPlanned: plan.reinfer.length,
    blocksRemerged: plan.remerge.size,
    blocksCarried: plan.carried.length,
  };
}
