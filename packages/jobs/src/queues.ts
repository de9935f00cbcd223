import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { JOB_QUEUE, QUEUES, type JobName, type QueueName } from './queue-names';
import { jobIds, parsePayload, type JobPayload } from './job-catalogue';

/**
 * Default options per job. Windows: 3 attempts with exponential backoff (transient faults:
 * storage hiccups, a dying node); completed window jobs are removed at once because a
 * département has ~10^6 of them and the run's "done" bitmap, not BullMQ, is the record.
 */
export const JOB_OPTIONS: { [K in JobName]: JobsOptions } = {
  'infer-window': { attempts: 3, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: true, removeOnFail: { age: 7 * 86_400 } },
  'merge-block': { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
  'finalize-run': { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
  // kept a day once complete, so `fleet prepare` can report each dalle's outcome
  'prepare-dalle': { attempts: 3, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } },
};

/** The fleet's queues, opened once per process. */
export class FleetQueues {
  readonly infer: Queue;
  readonly merge: Queue;
  readonly prepare: Queue;

  constructor(connection: ConnectionOptions, readonly prefix: string) {
    this.infer = new Queue(QUEUES.infer, { connection, prefix });
    this.merge = new Queue(QUEUES.merge, { connection, prefix });
    this.prepare = new Queue(QUEUES.prepare, { connection, prefix });
  }

  private queueFor(name: JobName): Queue {
    const q: QueueName = JOB_QUEUE[name];
    if (q === QUEUES.prepare) return this.prepare;
    return q === QUEUES.infer ? this.infer : this.merge;
  }

  /** Validates and adds a job under its deterministic id (adding an existing id is a no-op). */
  async add<K extends JobName>(name: K, payload: JobPayload<K>, jobId: string): Promise<void> {
    await this.queueFor(name).add(name, parsePayload(name, payload), { ...JOB_OPTIONS[name], jobId });
  }

  /** Bulk add of window jobs (one round trip per chunk). */
  async addWindows(payloads: JobPayload<'infer-window'>[]): Promise<void> {
    await this.infer.addBulk(
      payloads.map((p) => ({
        name: 'infer-window',
        data: parsePayload('infer-window', p),
        opts: { ...JOB_OPTIONS['infer-window'], jobId: jobIds.window(p.runId, p.window.id) },
      })),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.infer.close(), this.merge.close(), this.prepare.close()]);
  }
}
