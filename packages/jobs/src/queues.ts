import { Queue, type ConnectionOptions } from 'bullmq';
import { QUEUES, type QueueName } from './queue-names';
import { JOB_OPTIONS, JOB_QUEUE, jobIds, parsePayload, type JobName, type JobPayload } from './job-catalogue';

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
