import { planWindows, RunGeometry, type Block, type WindowPlan } from '@fleet/grid';

// No zod here (not even RunSpec's type from run-spec.ts): `fleet status` derives the geometry
// from a spec it checked by hand (progress-spec.ts), without loading the schemas.

/** The spec's fields the window plan is derived from (a RunSpec has them). */
export interface PlanFields {
  mosaic: { width: number; height: number };
  patch: number;
  overlap: number;
}

/** The spec's fields the geometry is derived from (a RunSpec has them). */
export interface GeometryFields extends PlanFields {
  blocks: readonly Block[];
  /** Absent: 1 (one-window jobs), as in RunSpec. */
  groupSide?: number | undefined;
}

/** The run's window plan: every process derives it from the spec the same way. */
export function windowPlanOf(spec: PlanFields): WindowPlan {
  return planWindows(spec.mosaic.width, spec.mosaic.height, { patch: spec.patch, overlap: spec.overlap });
}

/**
 * The run's geometry (groups, windows of a block, blocks of a window): every process derives
 * it from the spec the same way. Built once per spec object and kept with it.
 */
export function geometryOf(spec: GeometryFields): RunGeometry {
  let geometry = geometries.get(spec);
  if (!geometry) {
    geometry = new RunGeometry(windowPlanOf(spec), spec.blocks, spec.groupSide ?? 1);
    geometries.set(spec, geometry);
  }
  return geometry;
}

const geometries = new WeakMap<object, RunGeometry>();
