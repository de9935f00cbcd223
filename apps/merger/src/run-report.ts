import type { BlockResult, RunSpec } from '@fleet/jobs';

export interface ClassArea {
  id: number;
  name: string;
  color: string;
  pixels: number;
  hectares: number;
}

export interface RunReport {
  runId: string;
  createdAt: string;
  finishedAt: string;
  wallSeconds: number;
  model: { name: string; version: string };
  mosaic: RunSpec['mosaic'];
  patch: number;
  overlap: number;
  /** Inferred pixels / mosaic pixels: the over-compute that overlap costs (IGN's tool: 4). */
  computeFactor: number;
  windows: { total: number; done: number; skipped: number; failed: number; failures: Array<{ window: string; error: string }> };
  bytes: { maskTiles: number; perWindow: number; blocks: number };
  timingsMs: { read: number; infer: number; postprocess: number; upload: number; merge: number };
  classes: ClassArea[];
  blocks: Array<{ id: string; key: string; bytes: number; incomplete: boolean; failedWindows: number; pixels: Record<string, number>; hectares: Record<string, number> }>;
  /** Whether the intermediate mask tiles were deleted (FLEET_KEEP_TILES), and how many are left. */
  maskTiles?: MaskTilesOutcome;
  complete: boolean;
}

export interface MaskTilesOutcome {
  removed: boolean;
  remaining: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Pure: the run report from the spec, the counters and the per-block results. */
export function buildRunReport(
  spec: RunSpec,
  stats: Record<string, number>,
  failures: Record<string, string>,
  blocks: readonly BlockResult[],
  finishedAt: Date,
  maskTiles?: MaskTilesOutcome,
): RunReport {
  const gt = spec.mosaic.geoTransform;
  const pixelHa = Math.abs(gt[1] * gt[5]) / 10_000;
  const s = (k: string) => stats[k] ?? 0;
  const totals = new Map<number, number>();
  for (const b of blocks) for (const [id, n] of Object.entries(b.classPixels)) totals.set(Number(id), (totals.get(Number(id)) ?? 0) + n);
  const done = s('windows_done');
  const inferred = done * spec.patch * spec.patch;
  const ordered = [...blocks].sort((a, b) => a.blockId.localeCompare(b.blockId));
  return {
    runId: spec.runId,
    createdAt: spec.createdAt,
    finishedAt: finishedAt.toISOString(),
    wallSeconds: round2((finishedAt.getTime() - Date.parse(spec.createdAt)) / 1000),
    model: { name: spec.model.name, version: spec.model.version },
    mosaic: spec.mosaic,
    patch: spec.patch,
    overlap: spec.overlap,
    computeFactor: round2(inferred / (spec.mosaic.width * spec.mosaic.height)),
    windows: {
      total: spec.windowCount,
      done,
      skipped: s('windows_skipped'),
      failed: s('windows_failed'),
      failures: Object.entries(failures).sort().map(([window, error]) => ({ window, error })),
    },
    bytes: { maskTiles: s('tileBytes'), perWindow: done ? Math.round(s('tileBytes') / done) : 0, blocks: blocks.reduce((a, b) => a + b.bytes, 0) },
    timingsMs: {
      read: s('readMs'),
      infer: s('inferMs'),
      postprocess: s('postMs'),
      upload: s('uploadMs'),
      merge: blocks.reduce((a, b) => a + b.mergeMs, 0),
    },
    classes: spec.model.classes.map((c) => ({ id: c.id, name: c.name, color: c.color, pixels: totals.get(c.id) ?? 0, hectares: round2((totals.get(c.id) ?? 0) * pixelHa) })),
    blocks: ordered.map((b) => ({
      id: b.blockId,
      key: b.key,
      bytes: b.bytes,
      incomplete: b.failedWindows > 0,
      failedWindows: b.failedWindows,
      pixels: b.classPixels,
      hectares: Object.fromEntries(Object.entries(b.classPixels).map(([id, n]) => [id, round2(n * pixelHa)])),
    })),
    ...(maskTiles ? { maskTiles } : {}),
    complete: s('windows_failed') === 0,
  };
}
