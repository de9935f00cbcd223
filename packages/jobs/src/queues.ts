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
    // firings are added by their BullMQ job scheduler (FleetSchedules), never one by one
    if (q === QUEUES.schedule) throw new Error(`${name} jobs are added by job schedulers (FleetSchedules)`);
    if (q === QUEUES.prepare) return this.prepare;
    return q === QUEUES.infer ? this.infer : this.merge;
  }

  /** Validates and adds a job under its deterministic id (adding an existing id is a no-op). */
  async add<K extends JobName>(name: K, payload: JobPayload<K>, jobId: string): Promise<void> {
    await this.queueFor(name).add(name, parsePayload(name, payload), { ...JOB_OPTIONS[name], jobId });
  }

  /** Bulk add of group jobs under their deterministic ids (one round trip per call; existing ids are kept). */
  async addGroups(runId: string, groups: readonly { row: number; col: number }[]): Promise<void> {
    if (groups.length === 0) return;
    await this.infer.addBulk(
      groups.map((group) => ({
        name: 'infer-group',
        data: parsePayload('infer-group', { runId, group: { row: group.row, col: group.col } }),
        opts: { ...JOB_OPTIONS['infer-group'], jobId: jobIds.group(runId, group) },
      })),
    );
  }

  /**
   * Removes group jobs (a failed group's job must go before `fleet retry` adds it again: BullMQ
   * ignores an add whose id it still holds), `chunk` removals in flight at a time: ioredis
   * pipelines the concurrent script calls, so a chunk costs about one round trip, not one per
   * job. BullMQ has no remove-by-ids (taskforcesh/bullmq#1951, open) and its removeJob script
   * checks parents and dependencies, so it is called per job rather than replaced by DELs.
   */
  async removeGroups(runId: string, groups: readonly { row: number; col: number }[], chunk = 5_000): Promise<void> {
    for (let i = 0; i < groups.length; i += chunk) {
      await Promise.all(groups.slice(i, i + chunk).map((group) => this.infer.remove(jobIds.group(runId, group))));
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.infer.close(), this.merge.close(), this.prepare.close()]);
  }
}
