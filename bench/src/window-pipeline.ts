import type { PlannedWindow, WindowPlan } from '@fleet/grid';
import type { MosaicReader } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
// the worker's own window steps: the benchmark runs the code the worker runs
import { inferWindow } from '@fleet/worker';
import { sessionRunMs, type Engine } from './engine-calls';

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
 * One window through the worker's own steps (apps/worker inferWindow: read the mosaic window,
 * pad, infer, postprocess, encode, upload), with a stage clock hooked between the steps. Left
 * out: the group job and its Redis bookkeeping (bench:control-plane measures those).
 * The stage split is exact only when windows run one at a time: `sessionRun` comes from
 * the engine's counter, and with several windows in flight each stage's time includes
 * work done for the others meanwhile.
 */
export async function processWindow(ctx: PipelineContext, w: PlannedWindow, times: PipelineTimes): Promise<void> {
  const clock = new StageClock();
  let runBefore = 0;
  const work = await inferWindow({ runId: ctx.runId, plan: ctx.plan, reader: ctx.reader, output: ctx.output, engine: ctx.engine }, w, (stage) => {
    if (stage === 'read') {
      clock.lap(times, 'read');
      runBefore = sessionRunMs(ctx.engine);
    } else if (stage === 'infer') {
      // padding and the engine's time around session.run; session.run's own time (the
      // engine's counter) is moved out
      const run = sessionRunMs(ctx.engine) - runBefore;
      clock.lap(times, 'preprocess');
      times.wall.preprocess -= run;
      times.cpu.preprocess -= run;
      times.wall.sessionRun += run;
      times.cpu.sessionRun += run;
    } else {
      clock.lap(times, stage);
    }
  });
  if (work.outcome !== 'done') throw new Error(`bench window ${w.id} has no data: the bench mosaic should cover every window`);
  times.tileBytes += work.stats.tileBytes ?? 0;
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
  /** Bytes of the mask tiles uploaded, summed over windows. */
  tileBytes: number;
  finishedAt: number[];
}

export function newTimes(): PipelineTimes {
  return { wall: zeroStages(), cpu: zeroStages(), tileBytes: 0, finishedAt: [] };
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
