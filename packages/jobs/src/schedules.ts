import { Queue, type ConnectionOptions } from 'bullmq';
import type IORedis from 'ioredis';
import { JOB_OPTIONS, parsePayload } from './job-catalogue';
import { QUEUES } from './queue-names';
import { withRunScripts } from './run-scripts';
import type { ScheduledRequest } from './schedule-spec';

/** What the scheduler records of a schedule's latest firing (`fleet schedule list` shows it). */
export interface ScheduleLastRun {
  /** The run's id; absent when the firing was refused before a run existed (preflight). */
  runId?: string;
  /** running until the run ends (a firing skipped because the previous run still goes leaves it as it is). */
  state: 'running' | 'ok' | 'failed';
  /** ISO times. */
  firedAt: string;
  finishedAt?: string;
  message?: string;
  /** The firing's job id: a scheduler taking a handed-back firing over finds its run here. */
  firingId?: string;
}

export interface ScheduleEntry {
  name: string;
  cron: string;
  tz?: string;
  /** Next firing, epoch ms (BullMQ's delayed job). */
  next?: number;
  request: ScheduledRequest;
  last?: ScheduleLastRun;
}

/**
 * The fleet's schedules, kept by BullMQ job schedulers on their own queue (fleet-schedule):
 * one scheduler per schedule name, whose template is the run request; BullMQ adds each
 * firing as a delayed job and the next one when a scheduler process takes it. Beside them,
 * per schedule, the last firing's record and the "a run of this schedule is going" claim.
 */
export class FleetSchedules {
  readonly queue: Queue;

  /** `redis`: a plain connection for the records (the queue may share it). */
  constructor(connection: ConnectionOptions, private readonly redis: IORedis, readonly prefix: string) {
    this.queue = new Queue(QUEUES.schedule, { connection, prefix });
  }

  private key(name: string, what: 'last' | 'active'): string {
    return `${this.prefix}:schedule:${name}:${what}`;
  }

  /** Adds or replaces schedule `name`; returns whether it existed and when it fires next. */
  async upsert(name: string, cron: string, tz: string | undefined, request: ScheduledRequest): Promise<{ replaced: boolean; next?: number }> {
    const replaced = await this.exists(name);
    const data = parsePayload('run-schedule', { schedule: name, request });
    await this.queue.upsertJobScheduler(name, { pattern: cron, ...(tz === undefined ? {} : { tz }) }, { name: 'run-schedule', data, opts: JOB_OPTIONS['run-schedule'] });
    const next = (await this.queue.getJobScheduler(name))?.next;
    return { replaced, ...(next === undefined ? {} : { next }) };
  }

  /** Every schedule, soonest first, with its last firing. */
  async list(): Promise<ScheduleEntry[]> {
    const schedulers = await this.queue.getJobSchedulers(0, -1, true);
    return Promise.all(
      schedulers.map(async (s) => {
        const name = s.key;
        const data = s.template?.data as { request?: ScheduledRequest } | undefined;
        const last = await this.lastRun(name);
        return {
          name,
          cron: s.pattern ?? `every ${s.every} ms`,
          ...(s.tz ? { tz: s.tz } : {}),
          ...(s.next === undefined ? {} : { next: Number(s.next) }),
          request: data?.request ?? ({ sources: {}, model: '', output: '' } as ScheduledRequest),
          ...(last ? { last } : {}),
        };
      }),
    );
  }

  /**
   * Removes schedule `name` (its scheduler and its next firing) and its last-run record;
   * false when there was none. A run it already started goes on and is still notified.
   */
  async remove(name: string): Promise<boolean> {
    const removed = await this.queue.removeJobScheduler(name);
    await this.forgetLastRun(name);
    return removed;
  }

  async forgetLastRun(name: string): Promise<void> {
    await this.redis.del(this.key(name, 'last'));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.queue.getJobScheduler(name)) !== undefined;
  }

  async lastRun(name: string): Promise<ScheduleLastRun | undefined> {
    const raw = await this.redis.get(this.key(name, 'last'));
    return raw === null ? undefined : (JSON.parse(raw) as ScheduleLastRun);
  }

  async recordLastRun(name: string, last: ScheduleLastRun): Promise<void> {
    await this.redis.set(this.key(name, 'last'), JSON.stringify(last));
  }

  /**
   * Takes the schedule's "one run at a time" claim for firing `firingId`, for `ttlMs` (the
   * run's time bound plus a margin, so a claim whose holder vanished does not block the
   * schedule for ever). True when taken now, or already held by this same firing (a firing
   * taken over after its scheduler died resumes); otherwise the holder's firing id.
   */
  async claim(name: string, firingId: string, ttlMs: number): Promise<true | string> {
    const key = this.key(name, 'active');
    if ((await this.redis.set(key, firingId, 'PX', ttlMs, 'NX')) === 'OK') return true;
    const holder = await this.redis.get(key);
    if (holder === firingId) return true;
    // expired between the two calls: try once more
    if (holder === null) return (await this.redis.set(key, firingId, 'PX', ttlMs, 'NX')) === 'OK' ? true : ((await this.redis.get(key)) ?? 'unknown');
    return holder;
  }

  /** Lets go of the claim if firing `firingId` still holds it (compare and delete, one script). */
  async release(name: string, firingId: string): Promise<void> {
    await withRunScripts(this.redis).fleetReleaseClaim(this.key(name, 'active'), firingId);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
