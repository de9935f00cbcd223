import { exclusiveCore, type PlannedWindow, type WindowPlan } from '@fleet/grid';
import { outputKeys } from '@fleet/jobs';
import type { ModelBand, MosaicReader } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { encodeMaskTileAsync } from '@fleet/tiles';
// The worker's own padding step (apps/worker exports only its entry point).
import { padToPatch } from '../../apps/worker/dist/pad-to-patch';
import { inferPatch, modelBands, patchSize, postprocess, sessionRunMs, type Engine } from './engine-calls';

/** Wall milliseconds per stage, summed over windows. */
export interface StageTimes {
  read: number;
  /** padToPatch, plus the engine's time outside session.run (batching, transfers to and from its thread). */
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
 * the engine's counter, and with several windows in flight each stage's time includes
 * work done for the others meanwhile.
 */
export async function processWindow(ctx: PipelineContext, w: PlannedWindow, times: PipelineTimes): Promise<void> {
  const clock = new StageClock();
  const read = await ctx.reader.read(w, modelBands(ctx.engine) as readonly ModelBand[]);
  clock.lap(times, 'read');
  if (read.validCount === 0) throw new Error(`bench window ${w.id} has no data: the bench mosaic should cover every window`);
  const padded = padToPatch(read.planes, w.width, w.height, patchSize(ctx.engine));
  const runBefore = sessionRunMs(ctx.engine);
  const output = await inferPatch(ctx.engine, padded);
  // session.run is inside the infer lap: its own time (the engine's counter) is moved out.
  const run = sessionRunMs(ctx.engine) - runBefore;
  clock.lap(times, 'preprocess');
  times.wall.preprocess -= run;
  times.cpu.preprocess -= run;
  times.wall.sessionRun += run;
  times.cpu.sessionRun += run;
  const tile = postprocess(ctx.engine, output, {
    width: w.width,
    height: w.height,
    core: exclusiveCore(ctx.plan, w),
    valid: read.validCount === w.width * w.height ? undefined : read.valid,
  });
  clock.lap(times, 'postprocess');
  const bytes = await encodeMaskTileAsync(tile);
  clock.lap(times, 'encode');
  await ctx.output.put(outputKeys.maskTile(ctx.runId, w.id), bytes);
  clock.lap(times, 'upload');
  times.finishedAt.push(performance.now());
}

/** Wall and process-CPU time per stage, summed over windows, and when each window finished. */
export interface PipelineTimes {
  wall: StageTimes;
  /**
   * Process CPU (all threads: libuv's inflate and file I/O included) while the stage ran.
   * Meaningful only one window at a time; session.run's share is its wall time, which with
   * one intra-op thread is its CPU time.
   */
  cpu: StageTimes;
  finishedAt: number[];
}

export function newTimes(): PipelineTimes {
  return { wall: zeroStages(), cpu: zeroStages(), finishedAt: [] };
}

class StageClock {
  private wall = performance.now();
  private cpu = process.cpuUsage();

  lap(times: PipelineTimes, stage: keyof StageTimes): void {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    times.wall[stage] += wall - this.wall;
    times.cpu[stage] += (cpu.user - this.cpu.user + cpu.system - this.cpu.system) / 1000;
    this.wall = wall;
    this.cpu = cpu;
  }
}

/**
 * Runs windows with `concurrency` in flight, like the worker's BullMQ concurrency (which
 * keeps the next batch gathering while one runs). Resolves to the wall milliseconds.
 */
export async function runConcurrently(
  ctx: PipelineContext,
  windows: readonly PlannedWindow[],
  concurrency: number,
  times: PipelineTimes,
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
