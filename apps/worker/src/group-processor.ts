import type { PlannedWindow } from '@fleet/grid';
import { errorMessage, FleetQueues, isPermanent, jobIds, type JobPayload, type WindowCompletion, type WindowOutcome } from '@fleet/jobs';
import type { Logger } from '@fleet/logging';
import type { RunContext, RunContexts } from './run-context';
import type { WindowLimiter } from './window-limiter';
import type { WindowWork } from './window-steps';

/** Runs one window of a run (the worker: inferWindow with the run's reader and engine; the control-plane benchmark: a no-op). */
export type WindowRunner = (ctx: RunContext, window: PlannedWindow) => Promise<WindowWork>;

export interface GroupResult {
  /** Windows of the group (those that feed a block). */
  windows: number;
  /** Windows found done when the job started (a retried or re-delivered group). */
  alreadyDone: number;
  done: number;
  skipped: number;
  failed: number;
  /** Blocks whose merge this job enqueued. */
  readyBlocks: string[];
}

export interface GroupAttempt {
  /** 1 for the job's first attempt (logged with each failed window). */
  attempt?: number;
  /** No attempt follows this one: windows that still fail are recorded failed. */
  lastAttempt: boolean;
}

/**
 * One group job: reads which of its windows are done (one BITFIELD), runs the others through
 * the process-wide window limiter (so the engine's batches stay full whatever the group size),
 * records completions several windows per script call, and enqueues the merges of blocks that
 * became ready. A window that fails permanently is recorded failed and the group goes on; a
 * transient failure makes the job throw once the other windows are recorded, so BullMQ retries
 * the group and the retry skips the windows done; on the last attempt they are recorded failed.
 */
export class GroupProcessor {
  constructor(
    private readonly contexts: RunContexts,
    private readonly runWindow: WindowRunner,
    private readonly limiter: WindowLimiter,
    private readonly queues: FleetQueues,
    private readonly log: Logger,
    /** Windows recorded per script call (the worker: its batch size). */
    private readonly recordEvery: number,
    /** Told of each window this job finished (done, skipped, or recorded failed): the worker's metrics. */
    private readonly onWindow: (runId: string, outcome: WindowOutcome, stats?: Record<string, number>) => void = () => undefined,
  ) {}

  async process(payload: JobPayload<'infer-group'>, attempt: GroupAttempt): Promise<GroupResult> {
    const { runId, group } = payload;
    const ctx = await this.contexts.get(runId);
    const geometry = ctx.geometry;
    if (!geometry.hasGroup(group)) {
      throw Object.assign(new Error(`group ${group.row}-${group.col} of run ${runId} is outside the run's plan (${geometry.groupRows} x ${geometry.groupCols} groups)`), { permanent: true });
    }
    const windows = geometry.windowsOfGroup(group);
    const done = await ctx.state.doneBits(windows.map((w) => w.index));
    const recorder = new CompletionRecorder(ctx, this.queues, this.recordEvery);
    const result: GroupResult = { windows: windows.length, alreadyDone: 0, done: 0, skipped: 0, failed: 0, readyBlocks: recorder.enqueued };
    const transient: Array<{ window: PlannedWindow; err: unknown }> = [];
    const todo: PlannedWindow[] = [];
    windows.forEach((w, i) => {
      if (!done[i]) return void todo.push(w);
      // sent again: it changes nothing but reports its blocks that are ready, so a merge a dead
      // worker had not enqueued after recording the block's last window is enqueued now
      result.alreadyDone++;
      recorder.add({ index: w.index, windowId: w.id, outcome: 'done', blocks: geometry.blocksOf(w) });
    });
    // in a call of their own: a call that mixes them with new windows adds no stats
    if (result.alreadyDone > 0) await recorder.flush();

    await Promise.all(
      todo.map((w) =>
        this.limiter.run(async () => {
          try {
            const work = await this.runWindow(ctx, w);
            result[work.outcome]++;
            this.onWindow(runId, work.outcome, work.stats);
            // per window at debug level only: the fault suite counts inferences by these lines
            this.log.debug({ runId, windowId: w.id, ...work.stats }, work.outcome === 'done' ? 'window inferred' : 'window has no data: skipped');
            recorder.add({ index: w.index, windowId: w.id, outcome: work.outcome, blocks: geometry.blocksOf(w), stats: work.stats });
          } catch (err) {
            const permanent = isPermanent(err);
            this.log.warn({ runId, windowId: w.id, group: `${group.row}-${group.col}`, attempt: attempt.attempt, permanent, err: errorMessage(err) }, 'window failed');
            if (!permanent) return void transient.push({ window: w, err });
            result.failed++;
            this.onWindow(runId, 'failed');
            recorder.add({ index: w.index, windowId: w.id, outcome: 'failed', blocks: geometry.blocksOf(w), failure: errorMessage(err) });
          }
        }),
      ),
    );
    if (transient.length > 0 && attempt.lastAttempt) {
      // recorded while the job still holds its lock: if this process dies here the job
      // stalls and is retried, so a failure is never lost between BullMQ and the run state
      for (const { window: w, err } of transient) {
        result.failed++;
        this.onWindow(runId, 'failed');
        recorder.add({ index: w.index, windowId: w.id, outcome: 'failed', blocks: geometry.blocksOf(w), failure: errorMessage(err) });
      }
    }
    await recorder.flush();
    if (transient.length > 0) {
      const first = transient[0]!;
      throw new Error(`${transient.length} window(s) of group ${group.row}-${group.col} failed, first ${first.window.id}: ${errorMessage(first.err)}`);
    }
    this.log.debug({ runId, group: `${group.row}-${group.col}`, ...result }, 'group finished');
    return result;
  }
}

/**
 * Window completions of one group job, sent several per script call: once `every` are
 * waiting and no call is in flight (completions that arrive during a call wait for the next
 * one, so a busy Redis gets fewer, bigger calls), and the rest at flush(). Calls go one after
 * another; a failed call fails the job at flush().
 */
class CompletionRecorder {
  readonly enqueued: string[] = [];
  private readonly seen = new Set<string>();
  private waiting: WindowCompletion[] = [];
  private inFlight: Promise<void> | undefined;
  private error: unknown;

  constructor(private readonly ctx: RunContext, private readonly queues: FleetQueues, private readonly every: number) {}

  add(completion: WindowCompletion): void {
    this.waiting.push(completion);
    if (!this.inFlight && this.waiting.length >= this.every) this.send();
  }

  async flush(): Promise<void> {
    while (this.inFlight || (this.waiting.length > 0 && this.error === undefined)) {
      if (!this.inFlight) this.send();
      await this.inFlight;
    }
    if (this.error !== undefined) throw this.error;
  }

  private send(): void {
    if (this.error !== undefined) return;
    const batch = this.waiting;
    this.waiting = [];
    this.inFlight = this.record(batch)
      .catch((err: unknown) => {
        this.error ??= err;
      })
      .finally(() => {
        this.inFlight = undefined;
        if (this.waiting.length >= this.every) this.send();
      });
  }

  private async record(batch: WindowCompletion[]): Promise<void> {
    const runId = this.ctx.spec.runId;
    const ready = await this.ctx.state.completeWindows(batch);
    for (const blockId of ready) {
      if (this.seen.has(blockId)) continue;
      this.seen.add(blockId);
      await this.queues.add('merge-block', { runId, blockId }, jobIds.block(runId, blockId));
      this.enqueued.push(blockId);
    }
  }
}
