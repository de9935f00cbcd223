import { exclusiveCore, windowAt } from '@fleet/grid';
import { FleetQueues, jobIds, outputKeys, type JobPayload, type WindowOutcome } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type { ModelBand } from '@fleet/raster';
import { encodeMaskTileAsync, maskTileFromOutputs } from '@fleet/tiles';
import type { ModelEngines } from './model-engines';
import { padToPatch } from './pad-to-patch';
import type { RunContexts } from './run-context';

export interface WindowResult {
  outcome: WindowOutcome;
  tileBytes: number;
  /** Blocks whose last window this was: their merge was enqueued. */
  readyBlocks: string[];
}

/**
 * One window, end to end: read the mosaic window, infer, keep the argmax plus top-k
 * probabilities where neighbours overlap, upload the tile, then count the window down in
 * each block it feeds and enqueue the merges that became ready.
 */
export class WindowProcessor {
  constructor(
    private readonly contexts: RunContexts,
    private readonly engines: ModelEngines,
    private readonly queues: FleetQueues,
    private readonly log: Logger,
  ) {}

  async process(payload: JobPayload<'infer-window'>): Promise<WindowResult> {
    const { runId, window: w } = payload;
    const ctx = await this.contexts.get(runId);
    const planned = windowAt(ctx.plan, w.row, w.col);
    if (planned.x !== w.x || planned.y !== w.y || planned.width !== w.width || planned.height !== w.height) {
      throw Object.assign(new Error(`window ${w.id} of run ${runId} does not match the run's plan`), { permanent: true });
    }
    const engine = await this.engines.get(ctx.spec.model.location, ctx.spec.topK);
    const manifest = engine.manifest;

    const t0 = performance.now();
    const read = await ctx.reader.read(w, manifest.bands as readonly ModelBand[]);
    const t1 = performance.now();
    if (read.validCount === 0) {
      const readyBlocks = await this.complete(payload, 'skipped', { readMs: t1 - t0 });
      this.log.debug({ runId, windowId: w.id }, 'window has no data: skipped');
      return { outcome: 'skipped', tileBytes: 0, readyBlocks };
    }

    // the wait includes time queued behind other windows' batches, not only this batch's run
    const outputs = await engine.infer(padToPatch(read.planes, w.width, w.height, manifest.patch));
    const t2 = performance.now();
    const tile = maskTileFromOutputs({
      ...outputs,
      patch: manifest.patch,
      k: engine.topK,
      width: w.width,
      height: w.height,
      core: exclusiveCore(ctx.plan, planned),
      valid: read.validCount === w.width * w.height ? undefined : read.valid,
    });
    const bytes = await encodeMaskTileAsync(tile);
    const t3 = performance.now();
    await ctx.output.put(outputKeys.maskTile(runId, w.id), bytes);
    const t4 = performance.now();

    const stats = { tileBytes: bytes.length, readMs: t1 - t0, inferMs: t2 - t1, postMs: t3 - t2, uploadMs: t4 - t3 };
    const readyBlocks = await this.complete(payload, 'done', stats);
    this.log.debug({ runId, windowId: w.id, ...stats }, 'window inferred');
    return { outcome: 'done', tileBytes: bytes.length, readyBlocks };
  }

  /** Records the outcome once and enqueues the merges of blocks that have no window left. */
  async complete(payload: JobPayload<'infer-window'>, outcome: WindowOutcome, stats: Record<string, number>, failure = ''): Promise<string[]> {
    const ctx = await this.contexts.get(payload.runId);
    const ready = await ctx.state.completeWindow(payload.window.index, payload.window.id, outcome, payload.blocks, stats, failure);
    for (const blockId of ready) {
      await this.queues.add('merge-block', { runId: payload.runId, blockId }, jobIds.block(payload.runId, blockId));
    }
    return ready;
  }
}
