import { planRefresh, type DalleFootprint, type PixelRect, type RefreshPlan } from '@fleet/grid';
import { windowPlanOf, type Dalle, type RunSpec } from '@fleet/jobs';

/** Why a refresh recomputes everything, or undefined when the previous run's pixels can be kept. */
export function recomputeEverythingBecause(previous: RunSpec, next: RunSpec): string | undefined {
  if (!previous.inputs || !next.inputs) return 'the previous run did not record its inputs';
  if (previous.inputs.modelHash !== next.inputs.modelHash) return 'the model changed (model.onnx or model.json bytes)';
  if (previous.patch !== next.patch || previous.overlap !== next.overlap || previous.topK !== next.topK) return 'the patch, overlap or top-k changed';
  // a spec without a weighting was planned when the sin^2 ramp was the only one (run-spec.ts)
  if ((previous.weighting ?? 'sin2-ramp') !== (next.weighting ?? 'sin2-ramp')) return 'the window weighting changed';
  if (previous.mosaic.epsg !== next.mosaic.epsg) return 'the CRS changed';
  const [, pw, pr, , pc, ph] = previous.mosaic.geoTransform;
  const [, nw, nr, , nc, nh] = next.mosaic.geoTransform;
  if (pw !== nw || ph !== nh || pr !== nr || pc !== nc) return 'the pixel size changed';
  const offset = originOffset(previous, next);
  if (!Number.isInteger(offset.x) || !Number.isInteger(offset.y)) return 'the mosaic moved by a fraction of a pixel';
  return undefined;
}

/**
 * Where the previous mosaic's pixel (0, 0) lies in the next mosaic's pixels. Both are on the
 * same grid when the pixel size is the same (the layout checks whole-pixel alignment of every
 * dalle), so this is whole pixels up to rounding of the coordinates, which is removed here.
 */
export function originOffset(previous: RunSpec, next: RunSpec): { x: number; y: number } {
  const [px, pw, , py, , ph] = previous.mosaic.geoTransform;
  const [nx, , , ny] = next.mosaic.geoTransform;
  // `|| 0`: (y - y) / -0.2 is -0, which no one wants to read in a log
  const snap = (v: number) => (Math.abs(v - Math.round(v)) < 1e-6 ? Math.round(v) || 0 : v);
  return { x: snap((px - nx) / pw), y: snap((py - ny) / ph) };
}

/**
 * The mosaic pixels a dalle can influence. Image dalles: their rectangle. DSM/DTM dalles sit
 * on their own grid and are sampled bilinearly at pixel centres, so a pixel up to one of their
 * own pixels away reads them: their footprint is widened by one of their pixels on each side.
 */
export function dalleFootprint(dalle: Dalle, mosaic: RunSpec['mosaic']): PixelRect {
  if (!dalle.grid) return { x: dalle.x, y: dalle.y, width: dalle.width, height: dalle.height };
  const { x, y, stepX, stepY } = dalle.grid;
  const x0 = Math.max(0, Math.floor(x + (dalle.x - 1) * stepX));
  const y0 = Math.max(0, Math.floor(y + (dalle.y - 1) * stepY));
  const x1 = Math.min(mosaic.width, Math.ceil(x + (dalle.x + dalle.width + 1) * stepX));
  const y1 = Math.min(mosaic.height, Math.ceil(y + (dalle.y + dalle.height + 1) * stepY));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

function footprints(spec: RunSpec): DalleFootprint[] {
  return spec.sources.flatMap((source) =>
    source.dalles.map((d) => ({
      source: source.role,
      uri: d.uri,
      // no recorded version (a run planned before versions were recorded): never equal
      version: spec.inputs?.dalles[source.role]?.[d.uri] ?? `unknown:${spec.runId}`,
      rect: dalleFootprint(d, spec.mosaic),
    })),
  );
}

export interface RefreshAgainst {
  plan: RefreshPlan;
  /** Why everything is recomputed, when it is. */
  everythingBecause?: string;
}

/** What `next` recomputes against `previous`, the last published run of the same output (see planRefresh). */
export function refreshAgainst(previous: RunSpec, next: RunSpec): RefreshAgainst {
  const everythingBecause = recomputeEverythingBecause(previous, next);
  const offset = everythingBecause === undefined ? originOffset(previous, next) : { x: 0, y: 0 };
  const plan = planRefresh({
    previous: { plan: windowPlanOf(previous), blocks: previous.blocks, dalles: footprints(previous) },
    next: { plan: windowPlanOf(next), blocks: next.blocks, dalles: footprints(next) },
    offset,
    everything: everythingBecause !== undefined,
  });
  return everythingBecause === undefined ? { plan } : { plan, everythingBecause };
}
