import { createHash } from 'node:crypto';
import { z } from 'zod';
import { blockIdSchema, runIdSchema } from './run-spec';
import type { JobName } from './queue-names';

/** A group of the run's window plan (RunGeometry): rows/cols of groups, not of windows. */
const groupSchema = z.object({
  row: z.number().int().nonnegative(),
  col: z.number().int().nonnegative(),
});

/** Job payloads, validated when enqueued and again when a worker takes them. */
export const JOB_SCHEMAS = {
  /**
   * Up to G x G neighbouring windows: ids only, the worker derives the windows and the blocks
   * they feed from the run's geometry (a payload of tens of bytes per ~64 windows).
   */
  'infer-group': z.object({
    runId: runIdSchema,
    group: groupSchema,
  }),
  'merge-block': z.object({ runId: runIdSchema, blockId: blockIdSchema }),
  'finalize-run': z.object({ runId: runIdSchema }),
  'prepare-dalle': z.object({
    /** Store holding the source dalle: a folder or s3://bucket/prefix. */
    source: z.string().min(1),
    /** The dalle's key in `source` (".jp2", any case). */
    sourceKey: z.string().min(1),
    /** The source's version when enqueued (store etag, else size): recorded with the COG. */
    sourceVersion: z.string().min(1),
    /** Store the COG goes to. */
    output: z.string().min(1),
    /** The COG's key in `output` (the source key with ".tif"). */
    outputKey: z.string().min(1),
  }),
} satisfies { [K in JobName]: z.ZodType };

export type JobPayload<K extends JobName> = z.infer<(typeof JOB_SCHEMAS)[K]>;

/** A job handler; the handler map is typed so that a missing handler does not compile. */
export type JobHandler<K extends JobName, R = unknown> = (payload: JobPayload<K>, job: { id?: string; attemptsMade: number }) => Promise<R>;

/** Permanent payload problems name the job and the field. */
export function parsePayload<K extends JobName>(name: K, data: unknown): JobPayload<K> {
  const result = JOB_SCHEMAS[name].safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ${name} payload: ${problems}`);
  }
  return result.data as JobPayload<K>;
}

/**
 * Deterministic job ids: enqueueing the same run twice adds nothing, and a retry writes the
 * same object keys. BullMQ ids may not contain ':' (nor be plain integers).
 */
export const jobIds = {
  group: (runId: string, group: { row: number; col: number }) => `${runId}.g.${group.row}-${group.col}`,
  block: (runId: string, blockId: string) => `${runId}.b.${blockId}`,
  finalize: (runId: string) => `${runId}.final`,
  /**
   * One per dalle version and destination: a changed dalle (new etag) gets a new job while
   * an unchanged one maps to the job already queued. Hashed because keys may hold ':'.
   */
  dalle: (p: { source: string; sourceKey: string; sourceVersion: string; output: string; outputKey: string }) =>
    `prep.${createHash('sha256').update(JSON.stringify([p.source, p.sourceKey, p.sourceVersion, p.output, p.outputKey])).digest('hex').slice(0, 32)}`,
};
