import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type IORedis from 'ioredis';
import { JOB_CATALOGUE, jobNamesOf, parsePayload, type JobHandler, type JobName, type JobNameOf } from './job-catalogue';
import { errorMessage, isPermanent } from './permanent-error';
import type { QueueName } from './queue-names';

/** Every job name of queue `Q` with its handler: a missing one does not compile. */
export type QueueHandlers<Q extends QueueName> = { [K in JobNameOf<Q>]: JobHandler<K> };

/** What the consumer logs through (a pino logger fits). */
export interface ConsumerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConsumerOptions {
  /** Connection for BullMQ's worker; never closed by the consumer (its owner disconnects it). */
  connection: IORedis;
  /** BullMQ key prefix (FLEET_QUEUE_PREFIX). */
  prefix: string;
  log: ConsumerLog;
  /** Jobs held at once. Default 1. */
  concurrency?: number;
  /** BullMQ lock duration in ms. Default BullMQ's (30000). */
  lockDuration?: number;
  /** Stalled-job check interval in ms. Default BullMQ's (30000). */
  stalledInterval?: number;
  /** First pause after Redis refused a write for lack of memory, doubled each time it still does. Default 1000 ms. */
  oomBackoffMs?: number;
  /** Longest such pause. Default 30000 ms. */
  oomMaxBackoffMs?: number;
  /**
   * Told about a job that will not be tried again (a permanent error, an invalid payload, or
   * its last attempt), before BullMQ records it failed: the merger marks the run failed, so
   * nothing waits for a block that will never merge. Its own errors are logged, not thrown.
   */
  onFailedForGood?: (job: { name: string; id?: string; data: unknown }, message: string) => Promise<void>;
}

export interface Consumer {
  readonly worker: Worker;
  /** Stops taking jobs and lets those in hand finish. */
  close(): Promise<void>;
}

/** Redis refuses writes once `maxmemory` is reached under `noeviction`. */
export function isOutOfMemory(err: unknown): boolean {
  return /\bOOM command not allowed\b/.test(errorMessage(err));
}

/**
 * One consumer bootstrap for every queue's processes (worker, merger, preparer): a BullMQ
 * worker that parses each payload with the catalogue's schema, runs the handler for its job
 * name, and fails permanent errors (isPermanent, an invalid payload, a job name the queue
 * does not carry) with UnrecoverableError so they do not burn their attempts. Refuses to
 * start when one of the queue's job names has no handler.
 *
 * A full Redis (`OOM command not allowed`) is waited out, not fought: BullMQ's loop would
 * retry the refused fetch at once, tens of thousands of times a second. The consumer stops
 * taking jobs (worker.pause, which lets the loop wind down) for a pause that doubles from
 * oomBackoffMs to oomMaxBackoffMs while Redis still refuses, logs one line per pause, and
 * takes jobs again once a fetch goes through (memory freed by completions or an operator).
 */
export function startConsumer<Q extends QueueName>(queue: Q, handlers: QueueHandlers<Q>, options: ConsumerOptions): Consumer {
  const byName = handlers as unknown as Partial<Record<JobName, JobHandler<JobName>>>;
  const missing = jobNamesOf(queue).filter((name) => typeof byName[name] !== 'function');
  if (missing.length) throw new Error(`${queue}: no handler for job ${missing.join(', ')}`);
  const { log } = options;
  const firstBackoff = options.oomBackoffMs ?? 1_000;
  const maxBackoff = options.oomMaxBackoffMs ?? 30_000;

  const processor = async (job: Job) => {
    try {
      return await process(job);
    } catch (err) {
      // a job put back on purpose (moveToDelayed, moveToWait) has not failed
      if (err instanceof DelayedError || err instanceof WaitingError) throw err;
      const lastAttempt = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt && options.onFailedForGood && !isOutOfMemory(err)) {
        await options.onFailedForGood(job, errorMessage(err)).catch((hookErr: unknown) =>
          log.error({ queue, job: job.id, err: errorMessage(hookErr) }, 'could not record a job failed for good'),
        );
      }
      throw err;
    }
  };

  const process = async (job: Job) => {
    const name = job.name as JobName;
    const handler = byName[name];
    if (!handler || JOB_CATALOGUE[name]?.queue !== queue) throw new UnrecoverableError(`unknown job ${job.name} on ${queue}`);
    let payload;
    try {
      payload = parsePayload(name, job.data);
    } catch (err) {
      throw new UnrecoverableError(errorMessage(err));
    }
    try {
      return await handler(payload, job);
    } catch (err) {
      if (isOutOfMemory(err)) backOff();
      if (err instanceof UnrecoverableError || !isPermanent(err)) throw err;
      throw new UnrecoverableError(errorMessage(err));
    }
  };

  const worker = new Worker(queue, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 1,
    ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
    ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
    autorun: true,
  });

  let closing = false;
  let backingOff = false;
  let wait = firstBackoff;
  let refused = 0;
  let timer: NodeJS.Timeout | undefined;

  function backOff(): void {
    refused++;
    if (backingOff || closing) return;
    backingOff = true;
    const ms = wait;
    wait = Math.min(wait * 2, maxBackoff);
    log.warn({ queue, pauseMs: ms, refused }, 'Redis is out of memory (maxmemory reached): not taking jobs for a while');
    refused = 0;
    // pause() returns once the fetch loop has stopped, so resume() starts a fresh one
    void worker
      .pause()
      .catch((err: unknown) => log.error({ queue, err: errorMessage(err) }, 'consumer did not pause'))
      .then(() => {
        if (closing) return;
        timer = setTimeout(() => {
          timer = undefined;
          backingOff = false;
          if (!closing) worker.resume();
        }, ms);
      });
  }

  worker.on('error', (err) => {
    if (isOutOfMemory(err)) backOff();
    else log.error({ queue, err: errorMessage(err) }, 'consumer error');
  });
  worker.on('active', () => {
    if (wait === firstBackoff) return;
    wait = firstBackoff;
    log.info({ queue }, 'Redis takes writes again: taking jobs');
  });

  return {
    worker,
    async close() {
      closing = true;
      if (timer) clearTimeout(timer);
      await worker.close();
    },
  };
}
