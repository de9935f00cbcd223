import { RunState, runFatalFailures, type RunProgress } from '@fleet/jobs';
import type { createRedisConnection } from '@fleet/redis';

type IORedis = ReturnType<typeof createRedisConnection>;

export type RunOutcome =
  | { state: 'ok' | 'failed'; progress: RunProgress | undefined; message: string }
  /** The scheduler is shutting down: the firing hands its job back and another process follows on. */
  | { state: 'interrupted'; progress: RunProgress | undefined };

export interface FollowOptions {
  /** When the firing gives up on the run (epoch ms): FLEET_SCHEDULE_TIMEOUT_H after it fired. */
  deadline: number;
  pollMs: number;
  /** Aborted when the scheduler shuts down. */
  signal: AbortSignal;
}

/**
 * Waits for a run to end, reading only its state in Redis (the workers and mergers may be
 * anywhere): ok when it is finalised with every window mapped; failed when a merge or the
 * finalisation failed for good, when it finished with failed windows (an incomplete map is
 * not a good night: `fleet retry` after fixing the input), when its state is gone from Redis,
 * or when the deadline passes first (the run goes on; the notification says where it stood).
 */
export async function followRun(redis: IORedis, prefix: string, runId: string, options: FollowOptions): Promise<RunOutcome> {
  const state = new RunState(redis, prefix, runId);
  for (;;) {
    const progress = await state.progress();
    if (options.signal.aborted) return { state: 'interrupted', progress };
    if (!progress) return { state: 'failed', progress, message: `run ${runId} is no longer in Redis (expired or deleted) before it finished` };
    const fatal = Object.entries(await runFatalFailures(redis, prefix, runId));
    if (fatal.length > 0 && progress.status !== 'done') {
      const [what, message] = fatal[0]!;
      return { state: 'failed', progress, message: `${what} failed for good: ${message}${fatal.length > 1 ? ` (and ${fatal.length - 1} more)` : ''}` };
    }
    if (progress.status === 'done') {
      if (progress.failed > 0) {
        const first = Object.entries(await state.failures())[0];
        const why = first ? `: window ${first[0]}: ${first[1]}` : '';
        return { state: 'failed', progress, message: `finished with ${progress.failed} failed window(s) of ${progress.windows}, their pixels are nodata${why}; fix the input and run fleet retry ${runId}` };
      }
      return { state: 'ok', progress, message: `map complete: ${progress.done} window(s) inferred, ${progress.skipped} without data, ${progress.blocksMerged} block(s)` };
    }
    if (Date.now() >= options.deadline) {
      const pending = progress.windows - progress.done - progress.skipped - progress.failed;
      return {
        state: 'failed',
        progress,
        message: `not finished by the schedule's time limit (FLEET_SCHEDULE_TIMEOUT_H): ${pending} window(s) pending, ${progress.blocksMerged}/${progress.blocks} block(s) merged; the run goes on (fleet status ${runId})`,
      };
    }
    await pause(Math.min(options.pollMs, Math.max(0, options.deadline - Date.now())), options.signal);
  }
}

/** setTimeout that ends early when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
