import { exclusiveCore, type PlannedWindow, type WindowPlan } from '@fleet/grid';
import { outputKeys } from '@fleet/jobs';
import type { ModelBand, MosaicReader } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { encodeMaskTile } from '@fleet/tiles';
// The worker's own padding step (apps/worker exports only its entry point).
import { padToPatch } from '../../apps/worker/dist/pad-to-patch';
import { inferPatch, modelBands, patchSize, postprocess, sessionRunMs, type Engine } from './engine-calls';

/** Wall milliseconds per stage, summed over windows. */
export interface StageTimes {
  read: number;
  /** padToPatch, plus the engine's time outside session.run (normalisation, batching, output copies). */
  preprocess: number;
  /** Inside session.run (from the engine's own counter). */
  sessionRun: number;
  postprocess: number;
  encode: number;
  upload: number;
}

export const STAGES = ['read', 'preprocess', 'sessionRun', 'postprocess', 'encode', 'upload'] as const;

export function zeroStages(): StageTimes {
  return { read: 0, preprocess: 0, sessionRun: 0, postprocess: 0, encode: 0, upload: 0 };
}

export interface PipelineContext {
  runId: string;
  plan: WindowPlan;
  reader: MosaicReader;
  engine: Engine;
  output: ObjectStore;
  topK: number;
}

/**
 * One window through the steps of apps/worker's WindowProcessor.process: read the mosaic
 * window, pad, infer, postprocess, encode, upload. Left out: the Redis bookkeeping
 * (RunState.completeWindow, merge enqueueing), which is not the worker's compute path.
 * The stage split is exact only when windows run one at a time: `sessionRun` comes from
 * the engine's counter, and with several windows in a batch, the infer wall time of each
 * includes its neighbours' normalisation.
 */
export async function processWindow(ctx: PipelineContext, w: PlannedWindow, times: StageTimes): Promise<void> {
  const t0 = performance.now();
  const read = await ctx.reader.read(w, modelBands(ctx.engine) as readonly ModelBand[]);
  const t1 = performance.now();
  if (read.validCount === 0) throw new Error(`bench window ${w.id} has no data: the bench mosaic should cover every window`);
  const padded = padToPatch(read.planes, w.width, w.height, patchSize(ctx.engine));
  const runBefore = sessionRunMs(ctx.engine);
  const output = await inferPatch(ctx.engine, padded);
  const t2 = performance.now();
  const tile = postprocess(ctx.engine, output, {
    width: w.width,
    height: w.height,
    core: exclusiveCore(ctx.plan, w),
    valid: read.validCount === w.width * w.height ? undefined : read.valid,
    topK: ctx.topK,
  });
  const t3 = performance.now();
  const bytes = encodeMaskTile(tile);
  const t4 = performance.now();
  await ctx.output.put(outputKeys.maskTile(ctx.runId, w.id), bytes);
  const t5 = performance.now();
  const run = sessionRunMs(ctx.engine) - runBefore;
  times.read += t1 - t0;
  times.sessionRun += run;
  times.preprocess += t2 - t1 - run;
  times.postprocess += t3 - t2;
  times.encode += t4 - t3;
  times.upload += t5 - t4;
}

/**
 * Runs windows with `concurrency` in flight, like the worker's BullMQ concurrency (which
 * keeps the next batch gathering while one runs). Resolves to the wall milliseconds.
 */
export async function runConcurrently(
  ctx: PipelineContext,
  windows: readonly PlannedWindow[],
  concurrency: number,
  times: StageTimes,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < windows.length) {
      const w = windows[next++]!;
      await processWindow(ctx, w, times);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, windows.length) }, lane));
  return performance.now() - started;
}
