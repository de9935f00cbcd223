import type { JobInfo } from '@fleet/jobs';
import { DelayedError } from 'bullmq';

/**
 * How long a merge or a finalisation that found the run not ready for it waits before it
 * looks again: the windows it waits for come back through their group jobs (stalled-job
 * checks, retries), which takes seconds, and each look is one or two Redis reads.
 */
export const NOT_READY_RECHECK_MS = 5_000;

/** BullMQ's words (scripts.js, finishedErrors) for a job this process may no longer move: gone, or no longer its own. */
const NOT_OURS = /^(Missing key for job|Missing lock for job|Job .* is not in the \w+ state)/;

/**
 * Puts the job back, delayed, and throws BullMQ's DelayedError so that the worker leaves it
 * there: no attempt is spent and the job keeps its id, so the merge that the block's last
 * window enqueues (same id) finds it instead of a completed job that would swallow the add.
 * A job Redis no longer has (lost with its last writes), or that another process took over,
 * is left alone: the block's windows enqueue the merge again when they finish, and failing
 * it here could, on a last attempt, mark the run failed for nothing. See BullMQ's "process
 * step jobs" pattern (https://docs.bullmq.io/patterns/process-step-jobs).
 */
export async function checkLater(job: JobInfo, ms = NOT_READY_RECHECK_MS): Promise<never> {
  if (!job.moveToDelayed) throw new Error(`job ${job.id ?? '?'} cannot be delayed (no moveToDelayed)`);
  try {
    await job.moveToDelayed(Date.now() + ms, job.token);
  } catch (err) {
    if (!(err instanceof Error && NOT_OURS.test(err.message))) throw err;
  }
  throw new DelayedError();
}
