import { BlockIndex, planWindows, windowsIntersecting, type Block, type PlannedWindow, type WindowPlan } from '@fleet/grid';
import { outputKeys, type RunSpec, type RunState } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';

/**
 * Pure: the windows of `block` whose mask tiles no block needs any more. A window on a block
 * edge feeds two or four blocks, so its tile may go only once all of them are merged.
 */
export function windowsFreedBy(plan: WindowPlan, blocks: BlockIndex, block: Block, merged: ReadonlySet<string>): PlannedWindow[] {
  return windowsIntersecting(plan, block).filter((w) => blocks.touching(w).every((id) => merged.has(id)));
}

/**
 * Deletes the mask tiles of `block`'s windows that every block has used, once `block` is
 * recorded as merged. Two mergers finishing neighbours at once both read the merged set
 * after recording their own block, so the later one always sees both and deletes the shared
 * tiles. Returns how many tiles were deleted (missing ones, of skipped or failed windows, count too).
 */
export async function deleteMergedTiles(spec: RunSpec, block: Block, state: RunState, store: ObjectStore): Promise<number> {
  const plan = planWindows(spec.mosaic.width, spec.mosaic.height, { patch: spec.patch, overlap: spec.overlap });
  const freed = windowsFreedBy(plan, new BlockIndex(spec.blocks), block, await state.mergedBlocks());
  for (const w of freed) await store.delete(outputKeys.maskTile(spec.runId, w.id));
  return freed.length;
}

/** Deletes whatever mask tiles of the run are left (all blocks merged); returns how many. */
export async function sweepMaskTiles(runId: string, store: ObjectStore): Promise<number> {
  const keys = await store.list(outputKeys.maskTiles(runId));
  for (const key of keys) await store.delete(key);
  return keys.length;
}
