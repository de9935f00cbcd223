/**
 * Queue names, in one place. Windows and merges live on separate queues so that merge work
 * (CPU, I/O) never waits behind thousands of inference jobs, and GPU workers never take merges.
 */
export const QUEUES = {
  /** One job per group of neighbouring windows: read, infer, upload mask tiles. Taken by workers. */
  infer: 'fleet-infer',
  /** One job per output block, then one per run to finalise. Taken by mergers. */
  merge: 'fleet-merge',
  /** One job per source dalle to convert (JPEG 2000 to COG). Taken by preparers. */
  prepare: 'fleet-prepare',
  /**
   * One BullMQ job scheduler per schedule (`fleet schedule add`); each firing is a job taken
   * by `fleet scheduler`, which enqueues the run and follows it to the end.
   */
  schedule: 'fleet-schedule',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Job names and the queue each travels on: see JOB_CATALOGUE. */
export type { JobName } from './job-catalogue';
