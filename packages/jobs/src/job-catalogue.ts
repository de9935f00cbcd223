import { createHash } from 'node:crypto';
import { z } from 'zod';
import { blockIdSchema, runIdSchema } from './run-spec';
import type { JobName } from './queue-names';

const windowSchema = z.object({
  id: z.string().regex(/^r\d+-c\d+$/),
  row: z.number().int().nonnegative(),
  col: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  x: z.number().int().nonnegative(),
  y: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

/** Job payloads, validated when enqueued and again when a worker takes them. */
export const JOB_SCHEMAS = {
  'infer-window': z.object({
    runId: runIdSchema,
    window: windowSchema,
    /** Blocks this window feeds: each merges once all its windows are done. */
    blocks: z.array(blockIdSchema).min(1),
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
  window: (runId: string, windowId: string) => `${runId}.w.${windowId}`,
  block: (runId: string, blockId: string) => `${runId}.b.${blockId}`,
  finalize: (runId: string) => `${runId}.final`,
  /**
   * One per dalle version and destination: a changed dalle (new etag) gets a new job while
   * an unchanged one maps to the job already queued. Hashed because keys may hold ':'.
   */
  dalle: (p: { source: string; sourceKey: string; sourceVersion: string; output: string; outputKey: string }) =>
    `prep.${createHash('sha256').update(JSON.stringify([p.source, p.sourceKey, p.sourceVersion, p.output, p.outputKey])).digest('hex').slice(0, 32)}`,
};
