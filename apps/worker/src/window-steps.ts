import { exclusiveCore, type PlannedWindow, type WindowPlan } from '@fleet/grid';
import { outputKeys, type WindowOutcome } from '@fleet/jobs';
import type { PatchInference } from '@fleet/model';
import type { ModelBand, MosaicWindow } from '@fleet/raster';
import { encodeTileBodyAsync, tileBodyFromOutputs, tileBodyLength } from '@fleet/tiles';
import { padToPatch } from './pad-to-patch';
import { TileBodyPool } from './tile-body-pool';
import { windowBuffers } from './window-buffers';

/** Tile bodies shared by every window of this process (one per window between postprocess and encode). */
const tileBodies = new TileBodyPool();

/** What one window came to: its outcome and the figures added to the run's sums. */
export interface WindowWork {
  outcome: WindowOutcome;
  stats: Record<string, number>;
}

/** What the window steps use: the run's reader and output store, and an inference engine. */
export interface WindowSteps {
  runId: string;
  plan: WindowPlan;
  reader: { read(window: PlannedWindow, bands: readonly ModelBand[], options?: { into?: Uint8Array }): Promise<MosaicWindow> };
  output: { put(key: string, bytes: Uint8Array): Promise<unknown> };
  /** The batching engine (InferenceEngine): concurrent infer calls share a session.run. */
  engine: { manifest: { patch: number; bands: readonly string[] }; topK: number; infer(patch: Uint8Array): Promise<PatchInference> };
}

/** Called after each step of a window, in order (the benchmark's stage clock). */
export type StageLap = (stage: 'read' | 'infer' | 'postprocess' | 'encode' | 'upload') => void;

/**
 * One window, end to end: read the mosaic window (through the decoded-tile cache), pad,
 * infer, keep the argmax plus top-k probabilities where neighbours overlap, encode, upload the
 * mask tile. A window with no valid pixel is skipped (read, never inferred). The worker and the
 * benchmark both run this.
 */
export async function inferWindow(steps: WindowSteps, w: PlannedWindow, lap: StageLap = () => undefined): Promise<WindowWork> {
  const { engine } = steps;
  const manifest = engine.manifest;
  const t0 = performance.now();
  // the window's pixels go into a reused buffer, free again once the engine has batched them
  const pixels = windowBuffers.take(manifest.bands.length * w.width * w.height);
  let read: MosaicWindow;
  let t1: number;
  let outputs: PatchInference;
  try {
    read = await steps.reader.read(w, manifest.bands as readonly ModelBand[], { into: pixels });
    t1 = performance.now();
    lap('read');
    if (read.validCount === 0) return { outcome: 'skipped', stats: { readMs: t1 - t0 } };
    // the wait includes time queued behind other windows' batches, not only this batch's run
    outputs = await engine.infer(padToPatch(read.planes, w.width, w.height, manifest.patch));
  } finally {
    windowBuffers.give(pixels);
  }
  const t2 = performance.now();
  lap('infer');
  // the tile's body straight from the outputs (no MaskTile planes in between): the merger's input
  const core = exclusiveCore(steps.plan, w);
  const into = tileBodies.take(tileBodyLength({ width: w.width, height: w.height, core, k: engine.topK }));
  let bytes: Buffer;
  try {
    const { shape, body } = tileBodyFromOutputs(
      {
        ...outputs,
        patch: manifest.patch,
        k: engine.topK,
        width: w.width,
        height: w.height,
        core,
        valid: read.validCount === w.width * w.height ? undefined : read.valid,
      },
      into,
    );
    lap('postprocess');
    bytes = await encodeTileBodyAsync(shape, body);
  } finally {
    // settled either way: the thread pool no longer reads the body
    tileBodies.give(into);
  }
  const t3 = performance.now();
  lap('encode');
  await steps.output.put(outputKeys.maskTile(steps.runId, w.id), bytes);
  const t4 = performance.now();
  lap('upload');
  return { outcome: 'done', stats: { tileBytes: bytes.length, readMs: t1 - t0, inferMs: t2 - t1, postMs: t3 - t2, uploadMs: t4 - t3 } };
}
