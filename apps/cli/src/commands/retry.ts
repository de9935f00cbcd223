import { FleetQueues, jobIds, RunState } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { CliError } from '../cli-error';
import { queuePrefix } from '../queue-prefix';
import { requireRedisUrl } from '../redis-for-cli';

export const RETRY_USAGE = `fleet retry <run>   re-run only the failed windows of a run (after fixing their input) and
                    re-merge their blocks, once the run has finished; needs a running worker and merger`;

/**
 * `fleet retry <run>`: the failed windows become pending again (RunState.resetFailed), their
 * blocks leave the merged set, and the groups holding them are enqueued again (a group's done
 * windows are skipped by the worker). Job ids stay deterministic: the failed groups' jobs and
 * the finished merge/finalise jobs of the run are removed first,
 * since BullMQ ignores an add whose id it still holds.
 */
export async function retryCommand(argv: string[]): Promise<number> {
  const runId = argv[0];
  if (!runId || argv.length > 1) throw new CliError('usage: fleet retry <run-id>');
  const prefix = queuePrefix();
  const connection = createRedisConnection(requireRedisUrl(process.env, 'retry'));
  const queues = new FleetQueues(connection, prefix);
  const log = createLogger('coordinator');
  try {
    const state = new RunState(connection, prefix, runId);
    const progress = await state.progress();
    if (!progress) throw new CliError(`no run ${runId} in this Redis (prefix ${prefix})`, 1);
    // a merge still running could record a block after its windows were reset: retry only
    // once the run is over, when every failure is final and no merge holds a lock
    if (progress.status !== 'done') {
      const pending = progress.windows - progress.done - progress.skipped - progress.failed;
      throw new CliError(`run ${runId} has not finished (${pending} window(s) pending, ${progress.blocksMerged}/${progress.blocks} blocks merged): retry once fleet status says done`, 1);
    }
    const failed = await state.failedWindows();
    const groups = [...new Map(failed.map((f) => [`${f.group.row}-${f.group.col}`, f.group])).values()];
    await queues.removeGroups(runId, groups);
    const { reset, blocks } = await state.resetFailed(failed);
    for (const blockId of blocks) await queues.merge.remove(jobIds.block(runId, blockId));
    if (reset > 0) await queues.merge.remove(jobIds.finalize(runId));
    await queues.addGroups(runId, groups);
    log.info({ runId, windows: reset, blocks: blocks.length }, 'failed windows re-enqueued');
    process.stdout.write(`${JSON.stringify({ runId, windows: reset, blocks })}\n`);
    return 0;
  } finally {
    await queues.close();
    connection.disconnect();
  }
}
