import { BlockIndex, iterateWindows, planWindows, type Block } from '../../packages/grid/src';
import type { RunSpec } from '../../packages/jobs/src';

/** The Lambert-93 grid most synthetic runs sit on: 20 cm pixels, origin (600000, 6800000). */
export const SYNTHETIC_GEO_TRANSFORM: RunSpec['mosaic']['geoTransform'] = [600000, 0.2, 0, 6800000, 0, -0.2];

/** A one-class model that is never loaded (tests that build a spec without running inference). */
export const SYNTHETIC_MODEL: RunSpec['model'] = {
  location: '/models/demo', name: 'demo', version: '1', classes: [{ id: 1, name: 'building', color: '#db0e9a' }],
};

export interface SyntheticRunSpecOptions {
  runId: string;
  /** Mosaic size in pixels; the one 'stack' dalle covers it all. */
  width: number;
  height: number;
  /** Default '2026-11-30T00:00:00Z'. */
  createdAt?: string;
  /** Default one block 'all' covering the mosaic. */
  blocks?: Block[];
  /** Default '/out'. */
  output?: string;
  /** Default 2. */
  topK?: number;
  /** Absent unless given (one-window jobs). */
  groupSide?: number;
  /** Default: the windows of the real 512/128 plan that touch at least one block. */
  windowCount?: number;
  /** Default SYNTHETIC_GEO_TRANSFORM. */
  geoTransform?: RunSpec['mosaic']['geoTransform'];
  /** Where the stack source lives; default '/data'. */
  sourceLocation?: string;
  /** Default SYNTHETIC_MODEL. */
  model?: RunSpec['model'];
}

/** Windows of a 512 px / 128 px overlap plan over width x height that touch at least one block. */
export function inferableWindowCount(width: number, height: number, blocks: readonly Block[]): number {
  const index = new BlockIndex(blocks);
  let count = 0;
  for (const w of iterateWindows(planWindows(width, height, { patch: 512, overlap: 128 }))) if (index.touching(w).length > 0) count++;
  return count;
}

/**
 * A synthetic run spec (no real inputs, model or output behind it) for tests of the run
 * state, queues, workers and mergers: one 5-band 'stack' dalle covering a width x height
 * mosaic on the Lambert-93 grid, 512 px windows with 128 px of overlap.
 */
export function syntheticRunSpec(options: SyntheticRunSpecOptions): RunSpec {
  const { runId, width, height } = options;
  const blocks = options.blocks ?? [{ id: 'all', x: 0, y: 0, width, height }];
  return {
    runId,
    createdAt: options.createdAt ?? '2026-11-30T00:00:00Z',
    mosaic: { width, height, geoTransform: [...(options.geoTransform ?? SYNTHETIC_GEO_TRANSFORM)], epsg: 2154 },
    sources: [{ role: 'stack', location: options.sourceLocation ?? '/data', dalles: [{ uri: 'a.tif', x: 0, y: 0, width, height, bands: 5 }] }],
    model: structuredClone(options.model ?? SYNTHETIC_MODEL),
    output: options.output ?? '/out',
    patch: 512,
    overlap: 128,
    topK: options.topK ?? 2,
    blocks,
    windowCount: options.windowCount ?? inferableWindowCount(width, height, blocks),
    ...(options.groupSide !== undefined ? { groupSide: options.groupSide } : {}),
  };
}
