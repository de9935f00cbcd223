import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { QUEUES, type QueueName } from './queue-names';
import { blockIdSchema, runIdSchema } from './run-spec';
import { scheduleFiringSchema } from './schedule-spec';

/** A group of the run's window plan (RunGeometry): rows/cols of groups, not of windows. */
const groupSchema = z.object({
  row: z.number().int().nonnegative(),
  col: z.number().int().nonnegative(),
});

/** What the fleet knows about one job name: the queue it travels on, its payload, its options. */
export interface JobSpec {
  queue: QueueName;
  /** Payload, validated when enqueued and again when a consumer takes the job. */
  schema: z.ZodType;
  /** Default BullMQ options for every job of this name. */
  options: JobsOptions;
}

/**
 * The job catalogue: one entry per job name (queue, zod payload, default options).
 * Window groups: 3 attempts with exponential backoff (transient faults: storage hiccups, a
 * dying node; a retry skips the group's windows already done); completed group jobs are
 * removed at once because the run's "done" bitmap, not BullMQ, is the record.
 */
export const JOB_CATALOGUE = {
  /**
   * Up to G x G neighbouring windows: ids only, the worker derives the windows and the blocks
   * they feed from the run's geometry (a payload of tens of bytes per ~64 windows).
   */
  'infer-group': {
    queue: QUEUES.infer,
    schema: z.object({ runId: runIdSchema, group: groupSchema }),
    options: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: true, removeOnFail: { age: 7 * 86_400 } },
  },
  'merge-block': {
    queue: QUEUES.merge,
    schema: z.object({ runId: runIdSchema, blockId: blockIdSchema }),
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
  },
  'finalize-run': {
    queue: QUEUES.merge,
    schema: z.object({ runId: runIdSchema }),
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
  },
  'prepare-dalle': {
    queue: QUEUES.prepare,
    schema: z.object({
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
    // kept a day once complete, so `fleet prepare` can report each dalle's outcome
    options: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
  },
  /**
   * One firing of a schedule: the scheduler enqueues the request and holds the job until the
   * run finishes or fails for good (hours), so a scheduler that dies mid-run leaves a stalled
   * job that another (or the restarted one) takes over. A retry (Redis lost for a moment)
   * enqueues again, which adds nothing twice, and follows the same run. Completed firings go
   * at once: the schedule's last-run record (FleetSchedules) is what `fleet schedule list` reads.
   */
  'run-schedule': {
    queue: QUEUES.schedule,
    schema: scheduleFiringSchema,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 30_000 }, removeOnComplete: true, removeOnFail: { age: 7 * 86_400 } },
  },
} as const satisfies Record<string, JobSpec>;

export type JobName = keyof typeof JOB_CATALOGUE;

/** Job names that travel on queue `Q`. */
export type JobNameOf<Q extends QueueName> = { [K in JobName]: (typeof JOB_CATALOGUE)[K]['queue'] extends Q ? K : never }[JobName];

export const JOB_NAMES = Object.keys(JOB_CATALOGUE) as JobName[];

/** Job names of one queue, from the catalogue. */
export function jobNamesOf<Q extends QueueName>(queue: Q): JobNameOf<Q>[] {
  return JOB_NAMES.filter((n) => JOB_CATALOGUE[n].queue === queue) as JobNameOf<Q>[];
}

/** Views of the catalogue by aspect (the catalogue is the one place they are written). */
export const JOB_SCHEMAS = Object.fromEntries(JOB_NAMES.map((n) => [n, JOB_CATALOGUE[n].schema])) as { [K in JobName]: (typeof JOB_CATALOGUE)[K]['schema'] };
export const JOB_QUEUE = Object.fromEntries(JOB_NAMES.map((n) => [n, JOB_CATALOGUE[n].queue])) as { [K in JobName]: (typeof JOB_CATALOGUE)[K]['queue'] };
export const JOB_OPTIONS = Object.fromEntries(JOB_NAMES.map((n) => [n, JOB_CATALOGUE[n].options])) as { [K in JobName]: JobsOptions };

export type JobPayload<K extends JobName> = z.infer<(typeof JOB_SCHEMAS)[K]>;

/** A job handler; the handler map is typed so that a missing handler does not compile. */
export type JobHandler<K extends JobName, R = unknown> = (payload: JobPayload<K>, job: JobInfo) => Promise<R>;

/** What a handler sees of its BullMQ job. */
export interface JobInfo {
  id?: string;
  /** Attempts made before this one. */
  attemptsMade: number;
  opts: { attempts?: number };
  /** The lock token of the worker holding the job (BullMQ's Job carries it). */
  token?: string;
  /**
   * Hands the job back to the wait list (then throw BullMQ's WaitingError): a long job whose
   * process is shutting down lets another process take it over (the scheduler does this).
   */
  moveToWait?(token?: string): Promise<number>;
  /**
   * Puts the job back, delayed until `timestamp` (then throw BullMQ's DelayedError): a job
   * that finds the run not ready for it yet checks again later without spending an attempt.
   */
  moveToDelayed?(timestamp: number, token?: string): Promise<void>;
}

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
