import { FleetQueues, jobIds, parsePayload, QUEUES, RunState } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { openStore } from '@fleet/storage';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { MergerEnv } from './env';
import { finalizeRun } from './finalize-run';
import { mergeBlock } from './merge-block';
import { readFinalBlockRecord, writeBlockRecord } from './stored-block-record';
import { deleteMergedTiles } from './tile-cleanup';

export interface RunningMerger {
  readonly worker: Worker;
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
  const stateFor = (runId: string) => new RunState(connection, env.FLEET_QUEUE_PREFIX, runId);
  const specFor = async (runId: string) => {
    const spec = await stateFor(runId).spec();
    if (!spec) throw new UnrecoverableError(`run ${runId} has no spec in Redis`);
    return spec;
  };

  const handle = async (job: Job) => {
    if (job.name === 'merge-block') {
      const { runId, blockId } = parsePayload('merge-block', job.data);
      const spec = await specFor(runId);
      const block = spec.blocks.find((b) => b.id === blockId);
      if (!block) throw new UnrecoverableError(`run ${runId} has no block ${blockId}`);
      const state = stateFor(runId);
      const store = openStore(spec.output);
      // A merger that died after recording the block (and maybe deleting tiles it shared)
      // leaves its job to be delivered again: the block file is already final, so only the
      // steps after the record are redone (merging again could find those tiles gone). The
      // record in storage, written before the one in Redis, counts too: Redis may have lost
      // the latter (a crash losing its last second of writes, or a wipe).
      const recorded = (await state.blockResults()).find((r) => r.blockId === blockId) ?? (await readFinalBlockRecord(store, runId, blockId));
      const result = recorded ?? (await mergeBlock(spec, block, state, store, { fetchParallel: env.FLEET_MERGE_FETCH }));
      if (!recorded) await writeBlockRecord(store, runId, result);
      const remaining = await state.completeBlock(result);
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
    }
    if (job.name === 'finalize-run') {
      const { runId } = parsePayload('finalize-run', job.data);
      const spec = await specFor(runId);
      const report = await finalizeRun(spec, stateFor(runId), openStore(spec.output), { keepTiles: env.FLEET_KEEP_TILES });
      log.info({ runId, windows: report.windows, complete: report.complete }, 'run finalised');
      return { complete: report.complete };
    }
    throw new UnrecoverableError(`unknown job ${job.name} on ${QUEUES.merge}`);
  };

  const worker = new Worker(QUEUES.merge, handle, {
    connection: workerConnection,
    prefix: env.FLEET_QUEUE_PREFIX,
    concurrency: env.FLEET_MERGE_CONCURRENCY,
    lockDuration: env.FLEET_MERGE_LOCK_MS,
    stalledInterval: env.FLEET_MERGE_STALLED_MS,
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'merger error'));
  worker.on('failed', (job, err) => log.error({ job: job?.id, err: err.message }, 'merge job failed'));
  log.info({ prefix: env.FLEET_QUEUE_PREFIX }, 'merger started');
  return {
    worker,
    async close() {
      await worker.close();
      await queues.close();
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
