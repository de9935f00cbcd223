import type { Block, PlannedWindow, RunGeometry } from '@fleet/grid';
import { geometryOf, outputKeys, type RunSpec, type RunState } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';

/**
 * Pure: the windows of `block` whose mask tiles no block needs any more. A window on a block
 * edge feeds two or four blocks, so its tile may go only once all of them are merged.
 */
export function windowsFreedBy(geometry: RunGeometry, block: Block, merged: ReadonlySet<string>): PlannedWindow[] {
  return geometry.windowsOfBlock(block).filter((w) => geometry.blocksOf(w).every((id) => merged.has(id)));
}

/**
 * Blocks whose merge is final: recorded as merged with no failed window. A block with failed
 * windows is merged again by `fleet retry`, which needs all its other windows' tiles, so the
 * tiles it shares are kept until it is complete.
 */
async function completeBlocks(state: RunState): Promise<Set<string>> {
  return new Set((await state.blockResults()).filter((r) => r.failedWindows === 0).map((r) => r.blockId));
}

/**
 * Deletes the mask tiles of `block`'s windows that every block has used for good, once
 * `block` is recorded as merged. Two mergers finishing neighbours at once both read the
 * merged set after recording their own block, so the later one always sees both and deletes
 * the shared tiles. Returns how many tiles were deleted (missing ones, of skipped or failed
 * windows, count too).
 */
export async function deleteMergedTiles(spec: RunSpec, block: Block, state: RunState, store: ObjectStore): Promise<number> {
  const freed = windowsFreedBy(geometryOf(spec), block, await completeBlocks(state));
  for (const w of freed) await store.delete(outputKeys.maskTile(spec.runId, w.id));
  return freed.length;
}

/**
 * At finalisation: deletes the run's remaining mask tiles, except those an incomplete block
 * still needs for `fleet retry`; returns how many are kept.
 */
export async function sweepMaskTiles(spec: RunSpec, state: RunState, store: ObjectStore): Promise<number> {
  const geometry = geometryOf(spec);
  const complete = await completeBlocks(state);
  const needed = new Set<string>();
  for (const block of spec.blocks) {
    if (complete.has(block.id)) continue;
    for (const w of geometry.windowsOfBlock(block)) needed.add(outputKeys.maskTile(spec.runId, w.id));
  }
  const keys = await store.list(outputKeys.maskTiles(spec.runId));
  for (const key of keys) if (!needed.has(key)) await store.delete(key);
  return keys.filter((k) => needed.has(k)).length;
}
