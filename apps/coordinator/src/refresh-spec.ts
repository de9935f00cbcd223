import { geometryOf, type RunRefresh, type RunSpec } from '@fleet/jobs';
import type { PlannedRun } from './plan-run';
import { refreshAgainst } from './refresh-against';

/** What a refresh needs of the published run's report (run.json, read through readPublishedReport). */
export interface PublishedRunBlocks {
  runId: string;
  complete: boolean;
  blocks: ReadonlyArray<{ id: string; key: string; bytes: number; incomplete: boolean; failedWindows: number; pixels: Record<string, number> }>;
}

export type RefreshDecision = { planned: PlannedRun; refresh: RunRefresh } | { planned: PlannedRun; fullBecause: string };

/**
 * Turns a planned run into a refresh of the published one: its spec carries `refresh` (changed
 * pixels, blocks re-merged with their countdown and previous file, blocks carried with their
 * previous file and figures), `windowCount` becomes the windows inferred again and the merge
 * countdowns those of the re-merged blocks. Falls back to a full run, saying why, whenever a
 * previous pixel cannot be trusted or reached: the model or geometry changed, the published
 * run is incomplete or has failed windows (their nodata must not be carried), a block of the
 * plan has no file in it, or the plan changes nothing a merge would see.
 */
export function refreshSpec(planned: PlannedRun, previousSpec: RunSpec, published: PublishedRunBlocks): RefreshDecision {
  const full = (fullBecause: string): RefreshDecision => ({ planned, fullBecause });
  if (!published.complete) return full(`the published run ${published.runId} is not complete`);
  if (previousSpec.runId !== published.runId) return full(`the kept spec is run ${previousSpec.runId}, the published run is ${published.runId}`);
  const { plan, everythingBecause } = refreshAgainst(previousSpec, planned.spec);
  if (everythingBecause) return full(everythingBecause);
  if (plan.reinfer.length === 0 || plan.remerge.size === 0) return full('no block meets the changed pixels');
  const previousBlocks = new Map(published.blocks.map((b) => [b.id, b]));
  const badBlock = published.blocks.find((b) => b.incomplete || b.failedWindows > 0);
  if (badBlock) return full(`block ${badBlock.id} of the published run has failed windows`);

  const remerge: RunRefresh['remerge'] = [];
  for (const [blockId, waits] of plan.remerge) {
    const previous = previousBlocks.get(blockId);
    // a new block has nothing to copy: all its pixels are changed, so its previous file is never read
    if (waits === 0) return full(`block ${blockId} meets the changed pixels but waits for no window`);
    remerge.push({ blockId, waits, ...(previous ? { previousKey: previous.key } : {}) });
  }
  const carried: RunRefresh['carried'] = [];
  for (const blockId of plan.carried) {
    const previous = previousBlocks.get(blockId);
    if (!previous) return full(`block ${blockId} is carried over but the published run has no file for it`);
    carried.push({ blockId, key: previous.key, bytes: previous.bytes, classPixels: { ...previous.pixels } });
  }
  const geometry = geometryOf(planned.spec);
  const refresh: RunRefresh = {
    previousRunId: published.runId,
    changedPixels: plan.changedPixels,
    remerge,
    carried,
    carriedWindows: geometry.inferableCount - plan.reinfer.length,
  };
  const spec: RunSpec = { ...planned.spec, windowCount: plan.reinfer.length, refresh };
  return {
    planned: { ...planned, spec, windowsPerBlock: new Map(remerge.map((r) => [r.blockId, r.waits])) },
    refresh,
  };
}
