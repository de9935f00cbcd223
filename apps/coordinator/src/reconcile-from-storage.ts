import { windowAt, type WindowPlan } from '@fleet/grid';
import {
  isFinalBlockRecord,
  jobIds,
  outputKeys,
  parseBlockRecord,
  RunRestore,
  RunState,
  geometryOf,
  type BlockResult,
  type FleetQueues,
  type RunSpec,
} from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import { openStore, type ObjectStore } from '@fleet/storage';
import type IORedis from 'ioredis';

/** What a reconcile found in storage and wrote back into Redis. */
export interface ReconcileResult {
  /** Mask tiles listed under the run's `_work/<run>/tiles/`. */
  tiles: number;
  /** Block records listed under `_work/<run>/blocks/` that prove a block merged for good. */
  records: number;
  /** Windows newly marked done (their tile exists, or every block they feed is merged). */
  windowsRestored: number;
  /** Blocks newly marked merged from their records. */
  blocksRestored: number;
  /** Merges enqueued for blocks whose windows are all done but that are not merged. */
  mergesEnqueued: number;
  /** Whether the finalisation was enqueued (every block merged). */
  finalizeEnqueued: boolean;
}

/** Block records read at once (a département has a few thousand blocks, one GET each). */
const RECORD_FETCH = 16;

/** `_work/<run>/tiles/r12-c34.tile` -> the window, or undefined for anything else there. */
function windowOfTileKey(plan: WindowPlan, prefix: string, key: string): number | undefined {
  const m = /^r(\d+)-c(\d+)\.tile$/.exec(key.slice(prefix.length));
  if (!m) return undefined;
  const row = Number(m[1]);
  const col = Number(m[2]);
  if (row >= plan.rowStarts.length || col >= plan.colStarts.length) return undefined;
  return windowAt(plan, row, col).index;
}

async function readRecords(store: ObjectStore, keys: readonly string[]): Promise<BlockResult[]> {
  const out: BlockResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      out.push(parseBlockRecord(key, await store.get(key)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECORD_FETCH, keys.length) }, lane));
  return out;
}

/**
 * Rebuilds a run's state in Redis from its output store, which holds the truth of what was
 * done: called when the run is created in a Redis that did not have it (first run, or after
 * Redis was wiped) or on demand. Storage is read with LIST calls only (one per 1,000 keys on
 * S3; no HEAD per window) plus one GET per block record. Then, in bulk:
 * - blocks with a final record (no failed window) are marked merged, their result restored;
 * - windows with a mask tile, and windows whose every block is merged (their tiles may be
 *   deleted), are marked done;
 * - every block's countdown is recomputed from the done bitmap;
 * - blocks with no window left and not merged get their merge enqueued, and the run's
 *   finalisation when every block is merged.
 * A window with no tile (never inferred, in flight, skipped, or failed before the wipe) stays
 * pending and the caller enqueues it. Idempotent, and safe while workers and mergers run.
 */
export async function reconcileFromStorage(
  redis: IORedis,
  queues: FleetQueues,
  spec: RunSpec,
  store: ObjectStore,
  log?: Logger,
): Promise<ReconcileResult> {
  const started = performance.now();
  const runId = spec.runId;
  const geometry = geometryOf(spec);
  const plan = geometry.plan;
  const restore = new RunRestore(redis, queues.prefix, runId);
  const state = new RunState(redis, queues.prefix, runId);
  const blockIds = new Set(spec.blocks.map((b) => b.id));

  const recordsPrefix = outputKeys.blockRecords(runId);
  const recordKeys = (await store.list(recordsPrefix)).filter((k) => k.endsWith('.json'));
  const records = (await readRecords(store, recordKeys)).filter((r) => blockIds.has(r.blockId) && isFinalBlockRecord(r));
  const blocks = await restore.restoreBlocks(records, spec.blocks.length);
  const merged = await state.mergedBlocks();

  // done windows as a bitmap of the plan, not a Set: 1.7 M windows are 212 KB
  const done = new Uint8Array(Math.ceil((plan.rowStarts.length * plan.colStarts.length) / 8));
  const mark = (i: number) => (done[i >> 3]! |= 1 << (i & 7));
  const tilesPrefix = outputKeys.maskTiles(runId);
  const tileKeys = await store.list(tilesPrefix);
  let tiles = 0;
  for (const key of tileKeys) {
    const i = windowOfTileKey(plan, tilesPrefix, key);
    if (i === undefined) continue;
    tiles++;
    mark(i);
  }
  for (const block of spec.blocks) {
    if (!merged.has(block.id)) continue;
    for (const w of geometry.windowsOfBlock(block)) if (geometry.blocksOf(w).every((id) => merged.has(id))) mark(w.index);
  }
  function* doneIndices() {
    for (let i = 0; i < done.length * 8; i++) if ((done[i >> 3]! >> (i & 7)) & 1) yield i;
  }
  const windowsRestored = await restore.restoreWindows(doneIndices());

  const ready = await restore.recountBlocks(
    (function* () {
      for (const block of spec.blocks) yield { id: block.id, windows: geometry.windowsOfBlock(block).map((w) => w.index) };
    })(),
  );
  const mergedNow = await state.mergedBlocks();
  let mergesEnqueued = 0;
  for (const blockId of ready) {
    if (mergedNow.has(blockId)) continue;
    await queues.add('merge-block', { runId, blockId }, jobIds.block(runId, blockId));
    mergesEnqueued++;
  }
  const finalizeEnqueued = mergedNow.size === spec.blocks.length;
  if (finalizeEnqueued) await queues.add('finalize-run', { runId }, jobIds.finalize(runId));

  const result: ReconcileResult = { tiles, records: records.length, windowsRestored, blocksRestored: blocks.restored, mergesEnqueued, finalizeEnqueued };
  await restore.markReconciled();
  log?.info({ runId, ...result, ms: Math.round(performance.now() - started) }, 'run state reconciled from storage');
  return result;
}

/**
 * The coordinator's hook: reconciles when `force` (the run was just created, or asked) or when
 * no reconcile of this run ever finished (an enqueue killed in between); otherwise undefined.
 * `store` defaults to the spec's output, opened and closed here.
 */
export async function reconcileIfNeeded(
  redis: IORedis,
  queues: FleetQueues,
  spec: RunSpec,
  options: { force?: boolean | undefined; store?: ObjectStore | undefined },
  log?: Logger,
): Promise<ReconcileResult | undefined> {
  if (!options.force && (await new RunRestore(redis, queues.prefix, spec.runId).isReconciled())) return undefined;
  if (options.store) return reconcileFromStorage(redis, queues, spec, options.store, log);
  const own = openStore(spec.output);
  try {
    return await reconcileFromStorage(redis, queues, spec, own, log);
  } finally {
    await own.close();
  }
}
