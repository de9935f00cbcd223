import type { GeometryFields } from './spec-geometry';

/**
 * The few fields of a run's spec that its progress is computed from, checked by hand: reading
 * a run's progress (`fleet status`, RunView) must not load zod and the full RunSpec schema
 * (BENCHMARKS.md, "CLI start"). The coordinator validated the whole spec with that schema when
 * it wrote it; this only guards against a spec that is not one (another program's key, a
 * truncated write), with a message that says which field is wrong.
 */
export interface ProgressSpec extends GeometryFields {
  windowCount: number;
  /** ISO time the run was created; absent or unparseable: unknown. */
  createdAt?: string | undefined;
}

/** A run's spec in Redis that is not one: not a connection problem, and retrying will not help. */
export class UnreadableRunSpec extends Error {
  override readonly name = 'UnreadableRunSpec';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` as an integer >= min, or an error naming `path`. */
function integer(v: unknown, min: number, path: string, fail: (msg: string) => never): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`${path} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** The spec's JSON text (as stored at runKeys().spec), checked; throws a one-line error naming the run and the field. */
export function progressSpecOf(raw: string, runId: string): ProgressSpec {
  const fail = (msg: string): never => {
    throw new UnreadableRunSpec(`run ${runId}: its spec in Redis is not a run spec: ${msg}`);
  };
  let spec: unknown;
  try {
    spec = JSON.parse(raw);
  } catch (err) {
    return fail(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(spec)) return fail('not an object');
  const mosaic = spec.mosaic;
  if (!isObject(mosaic)) return fail('mosaic missing');
  if (!Array.isArray(spec.blocks) || spec.blocks.length === 0) return fail('blocks must be a non-empty list');
  const blocks = spec.blocks.map((b: unknown, i) => {
    if (!isObject(b) || typeof b.id !== 'string') return fail(`blocks[${i}].id missing`);
    return {
      id: b.id,
      x: integer(b.x, 0, `blocks[${i}].x`, fail),
      y: integer(b.y, 0, `blocks[${i}].y`, fail),
      width: integer(b.width, 1, `blocks[${i}].width`, fail),
      height: integer(b.height, 1, `blocks[${i}].height`, fail),
    };
  });
  return {
    windowCount: integer(spec.windowCount, 1, 'windowCount', fail),
    mosaic: { width: integer(mosaic.width, 1, 'mosaic.width', fail), height: integer(mosaic.height, 1, 'mosaic.height', fail) },
    patch: integer(spec.patch, 1, 'patch', fail),
    overlap: integer(spec.overlap, 0, 'overlap', fail),
    blocks,
    groupSide: spec.groupSide === undefined ? undefined : integer(spec.groupSide, 1, 'groupSide', fail),
    createdAt: typeof spec.createdAt === 'string' ? spec.createdAt : undefined,
  };
}
