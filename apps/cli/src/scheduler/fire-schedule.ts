import { enqueueRun, planRun, preflightRun, type RunRequest } from '@fleet/coordinator';
import { errorMessage, type FleetQueues, type FleetSchedules, type JobInfo, type ScheduleFiring, type ScheduleLastRun } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type { createRedisConnection } from '@fleet/redis';
import { WaitingError } from 'bullmq';
import { openStore } from '@fleet/storage';
import { unchangedMessage } from '../published-run';
import { planAgainstPublished } from '../refresh-run';
import { followRun, type RunOutcome } from './follow-run';
import { notify, type FiringSummary } from './notify';
import type { SchedulerEnv } from './scheduler-env';

export interface FiringContext {
  redis: ReturnType<typeof createRedisConnection>;
  redisUrl: string;
  queues: FleetQueues;
  schedules: FleetSchedules;
  env: SchedulerEnv;
  /** The process environment (S3 credentials, FLEET_PROVIDER for the model check, ...). */
  processEnv: NodeJS.ProcessEnv;
  /** Aborted when the scheduler shuts down. */
  signal: AbortSignal;
  log: Logger;
}

/** How long a schedule's claim outlives the run's time bound (a scheduler that vanished without letting go). */
const CLAIM_MARGIN_MS = 3_600_000;

/**
 * One firing of a schedule: what `fleet enqueue` does (preflight, plan, enqueue) for its
 * request, then the run followed until it ends, the outcome recorded for `fleet schedule
 * list` and POSTed to FLEET_NOTIFY_URL. Only one firing of a schedule at a time: the claim
 * (a Redis key per schedule) of a firing still following its run makes a later firing skip.
 *
 * A scheduler shutting down hands the job back (moveToWait + WaitingError) keeping the claim
 * and the "running" record: the process that takes the job over finds both naming this
 * firing and follows the same run, without enqueueing it again.
 */
export async function fireSchedule(firing: ScheduleFiring, job: JobInfo, ctx: FiringContext): Promise<FiringSummary | { skipped: string }> {
  const { schedule } = firing;
  const log = ctx.log.child({ schedule });
  const firingId = job.id ?? `${schedule}.${Date.now()}`;
  const timeoutMs = ctx.env.FLEET_SCHEDULE_TIMEOUT_H * 3_600_000;
  const claim = await ctx.schedules.claim(schedule, firingId, timeoutMs + CLAIM_MARGIN_MS);
  if (claim !== true) {
    log.warn({ firing: firingId, running: claim }, 'schedule fired while its previous run is still going: firing skipped');
    return { skipped: claim };
  }
  const before = await ctx.schedules.lastRun(schedule);
  const resumed = before?.state === 'running' && before.firingId === firingId ? before : undefined;
  const firedAt = resumed?.firedAt ?? new Date().toISOString();
  const request = firing.request as RunRequest;
  let runId = resumed?.runId;
  let outcome: RunOutcome;
  try {
    let unchanged: string | undefined;
    if (runId === undefined) {
      const enqueued = await enqueueRequest(request, ctx, log);
      runId = enqueued.runId;
      unchanged = enqueued.unchanged;
      if (unchanged === undefined) {
        await ctx.schedules.recordLastRun(schedule, { runId, state: 'running', firedAt, firingId });
        log.info({ runId, firing: firingId }, 'schedule fired: run enqueued');
      }
    } else {
      log.info({ runId, firing: firingId }, 'firing taken over: following its run');
    }
    // nothing changed since the published run: nothing was enqueued, the night is done
    outcome = unchanged !== undefined
      ? { state: 'ok', progress: undefined, message: unchanged }
      : await followRun(ctx.redis, ctx.queues.prefix, runId, { deadline: Date.parse(firedAt) + timeoutMs, pollMs: ctx.env.FLEET_SCHEDULE_POLL_MS, signal: ctx.signal });
  } catch (err) {
    // a preflight refusal, a plan the inputs do not allow, Redis or S3 out of reach: the night failed
    outcome = { state: 'failed', progress: undefined, message: errorMessage(err).split('\n')[0]! };
  }
  if (outcome.state === 'interrupted') {
    log.info({ runId, firing: firingId }, 'scheduler stopping: firing handed back, another scheduler follows the run');
    if (job.moveToWait) await job.moveToWait(job.token);
    throw new WaitingError();
  }
  const finishedAt = new Date().toISOString();
  const p = outcome.progress;
  const summary: FiringSummary = {
    schedule,
    runId: runId ?? null,
    state: outcome.state,
    windows: p ? { total: p.windows, done: p.done, skipped: p.skipped, failed: p.failed, pending: p.windows - p.done - p.skipped - p.failed } : null,
    blocks: p ? { total: p.blocks, merged: p.blocksMerged } : null,
    durationS: Math.round((Date.parse(finishedAt) - Date.parse(firedAt)) / 100) / 10,
    output: request.output,
    message: outcome.message,
    firedAt,
    finishedAt,
  };
  const last: ScheduleLastRun = { ...(runId === undefined ? {} : { runId }), state: outcome.state, firedAt, finishedAt, message: outcome.message, firingId };
  try {
    // a schedule removed while its run went on keeps no record (a later one of that name starts clean)
    if (await ctx.schedules.exists(schedule)) await ctx.schedules.recordLastRun(schedule, last);
    else await ctx.schedules.forgetLastRun(schedule);
  } finally {
    await ctx.schedules.release(schedule, firingId);
  }
  (outcome.state === 'ok' ? log.info.bind(log) : log.error.bind(log))({ runId, state: outcome.state, durationS: summary.durationS, message: outcome.message }, 'scheduled run ended');
  if (ctx.env.FLEET_NOTIFY_URL) await notify(ctx.env.FLEET_NOTIFY_URL, summary, log);
  return summary;
}

/**
 * The path of `fleet enqueue`: preflight (cheapest checks first), the header scan, the published
 * map looked at (nothing changed: nothing enqueued; a refresh when it allows one), the enqueue.
 */
async function enqueueRequest(request: RunRequest, ctx: FiringContext, log: Logger): Promise<{ runId: string; unchanged?: string }> {
  await preflightRun(request, { env: ctx.processEnv, redisUrl: ctx.redisUrl, warn: (m) => log.warn({}, m) });
  const first = await planRun(request);
  const against = await planAgainstPublished(openStore(first.spec.output), first, request.runId !== undefined, log);
  if ('unchanged' in against) return { runId: against.unchanged.runId, unchanged: unchangedMessage(against.unchanged, first.spec.output) };
  const result = await enqueueRun(ctx.redis, ctx.queues, against.planned.spec, against.planned.windowsPerBlock, log);
  return { runId: result.runId };
}
