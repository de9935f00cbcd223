import { BLOCK_NOT_READY, FleetQueues, jobIds, markRunFailed, QUEUES, RunState, startConsumer, type QueueHandlers } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { consumerProblems, MergerMetrics, registerQueueMetrics, startProcessOps } from '@fleet/metrics';
import { createRedisConnection } from '@fleet/redis';
import { openStore } from '@fleet/storage';
import { UnrecoverableError, type Worker } from 'bullmq';
import type { MergerEnv } from './env';
import { checkLater } from './check-later';
import { finalizeRun, RunNotReadyError } from './finalize-run';
import { mergeBlock } from './merge-block';
import { readFinalBlockRecord, writeBlockRecord } from './stored-block-record';
import { deleteMergedTiles } from './tile-cleanup';

export interface RunningMerger {
  readonly worker: Worker;
  /** Port of the /metrics, /livez, /readyz server; undefined when FLEET_METRICS_PORT is 0. */
  readonly metricsPort: number | undefined;
  close(): Promise<void>;
}

/**
 * The merger: a BullMQ worker on the merge queue. A block is merged as soon as its last
 * window finishes (workers enqueue it), not at the end of the run; when the last block of a
 * run is merged, the run is finalised.
 */
export async function startMerger(redisUrl: string, env: MergerEnv, log: Logger = createLogger('merger')): Promise<RunningMerger> {
  const connection = createRedisConnection(redisUrl);
  // BullMQ never closes connections it is given: both are disconnected in close()
  const workerConnection = createRedisConnection(redisUrl);
  const queues = new FleetQueues(connection, env.FLEET_QUEUE_PREFIX);
  let consumer: ReturnType<typeof startConsumer> | undefined;
  const ops = await startProcessOps({ component: 'merger', env, redis: connection, ready: () => consumerProblems(consumer?.worker) }).catch(async (err: unknown) => {
    await queues.close();
    connection.disconnect();
    workerConnection.disconnect();
    throw err;
  });
  const metrics = new MergerMetrics(ops.registry);
  registerQueueMetrics(ops.registry, [queues.merge]);
  const stateFor = (runId: string) => new RunState(connection, env.FLEET_QUEUE_PREFIX, runId);
  const specFor = async (runId: string) => {
    const spec = await stateFor(runId).spec();
    if (!spec) throw new UnrecoverableError(`run ${runId} has no spec in Redis`);
    return spec;
  };

  const handlers: QueueHandlers<typeof QUEUES.merge> = {
    'merge-block': async ({ runId, blockId }, job) => {
      const spec = await specFor(runId);
      const block = spec.blocks.find((b) => b.id === blockId);
      if (!block) throw new UnrecoverableError(`run ${runId} has no block ${blockId}`);
      const state = stateFor(runId);
      // A merge is enqueued when the block's last window is recorded done; Redis can since have
      // lost that record (its last second of writes) or `fleet retry` reset a window: the merge
      // waits until the windows are done again rather than merge a block they will change.
      const windowsLeft = await state.blockWindowsLeft(blockId);
      if (windowsLeft > 0) {
        log.warn({ runId, blockId, windowsLeft }, 'block has windows not recorded done: its merge waits for them');
        return checkLater(job);
      }
      const store = openStore(spec.output);
      // A merger that died after recording the block (and maybe deleting tiles it shared)
      // leaves its job to be delivered again: the block file is already final, so only the
      // steps after the record are redone (merging again could find those tiles gone). The
      // record in storage, written before the one in Redis, counts too: Redis may have lost
      // the latter (a crash losing its last second of writes, or a wipe).
      const recorded = (await state.blockResults()).find((r) => r.blockId === blockId) ?? (await readFinalBlockRecord(store, runId, blockId));
      const result = recorded ?? (await mergeBlock(spec, block, state, store, { fetchParallel: env.FLEET_MERGE_FETCH }));
      if (!recorded) {
        await writeBlockRecord(store, runId, result);
        metrics.blocksMerged.inc({ run: runId });
        metrics.mergeSeconds.observe(result.mergeMs / 1000);
      }
      const remaining = await state.completeBlock(result);
      if (remaining === BLOCK_NOT_READY) {
        // windows of the block stopped being recorded done while it merged (see above): the
        // merge is not recorded, and runs again (or finds its record in storage) once they are
        log.warn({ runId, blockId }, 'block merged but some of its windows are no longer recorded done: not recorded, its merge waits for them');
        return checkLater(job);
      }
      log.info({ runId, blockId, ms: result.mergeMs, bytes: result.bytes, remaining, alreadyRecorded: recorded !== undefined }, 'block merged');
      if (remaining === 0) await queues.add('finalize-run', { runId }, jobIds.finalize(runId));
      if (!env.FLEET_KEEP_TILES) {
        // Not worth failing (and so re-merging) the block for: finalisation sweeps what is left.
        await deleteMergedTiles(spec, block, state, store).then(
          (deleted) => log.debug({ runId, blockId, deleted }, 'mask tiles deleted'),
          (err: unknown) => log.warn({ runId, blockId, err: err instanceof Error ? err.message : String(err) }, 'mask tiles not deleted'),
        );
      }
      return result;
    },
    'finalize-run': async ({ runId }, job) => {
      const spec = await specFor(runId);
      let report;
      try {
        report = await finalizeRun(spec, stateFor(runId), openStore(spec.output), { keepTiles: env.FLEET_KEEP_TILES, runTtlSeconds: Math.round(env.FLEET_RUN_TTL_DAYS * 86_400), keepRuns: env.FLEET_KEEP_RUNS });
      } catch (err) {
        if (!(err instanceof RunNotReadyError)) throw err;
        log.warn({ runId, windowsLeft: err.outstanding.windows, blocksLeft: err.outstanding.blocks }, 'run not finalised yet: windows or blocks not recorded done; finalisation waits for them');
        return checkLater(job);
      }
      metrics.runsFinalized.inc({ complete: String(report.complete) });
      log.info({ runId, windows: report.windows, complete: report.complete }, 'run finalised');
      return { complete: report.complete };
    },
  };

  consumer = startConsumer(QUEUES.merge, handlers, {
    connection: workerConnection,
    prefix: env.FLEET_QUEUE_PREFIX,
    log,
    concurrency: env.FLEET_MERGE_CONCURRENCY,
    lockDuration: env.FLEET_MERGE_LOCK_MS,
    stalledInterval: env.FLEET_MERGE_STALLED_MS,
    // A merge or finalisation that fails for good (a permanent error, or its last attempt)
    // leaves a block that will never be merged: say so in the run state, naming the block and
    // the error, so `fleet run` and `fleet status` report it instead of waiting for ever.
    onFailedForGood: async (job, message) => {
      const data = job.data as { runId?: unknown; blockId?: unknown };
      if (typeof data.runId !== 'string') return;
      const what = job.name === 'merge-block' ? `block ${String(data.blockId)}` : job.name === 'finalize-run' ? 'finalize' : job.name;
      await markRunFailed(connection, env.FLEET_QUEUE_PREFIX, data.runId, what, message);
    },
  });
  const worker = consumer.worker;
  const running = consumer;
  worker.on('failed', (job, err) => {
    if (job?.name === 'merge-block') metrics.merges.inc({ outcome: 'failed' });
    log.error({ job: job?.id, err: err.message }, 'merge job failed');
  });
  worker.on('completed', (job) => {
    if (job.name === 'merge-block') metrics.merges.inc({ outcome: 'done' });
  });
  log.info({ prefix: env.FLEET_QUEUE_PREFIX, ...(ops.port === undefined ? {} : { metricsPort: ops.port }) }, 'merger started');
  return {
    worker,
    metricsPort: ops.port,
    async close() {
      await running.close();
      await Promise.all([queues.close(), ops.close()]);
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
