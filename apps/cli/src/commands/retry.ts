import { FleetQueues, retryFailedWindows, retryInProgress, RunState } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { CliError } from '../cli-error';
import { queuePrefix } from '../queue-prefix';
import { requireRedisUrl } from '../redis-for-cli';

/**
 * `fleet retry <run>`: the failed windows become pending again, their blocks leave the merged
 * set, and the groups (jobs) holding them are enqueued again, their done windows skipped by
 * the worker (retryFailedWindows: chunked, at any size, and safe
 * to run again after an interruption: a retry stopped half-way is finished by the next one).
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
    // once the run is over, when every failure is final and no merge holds a lock (or to
    // finish a retry that was interrupted)
    if (progress.status !== 'done' && !(await retryInProgress(connection, prefix, runId))) {
      const pending = progress.windows - progress.done - progress.skipped - progress.failed;
      throw new CliError(`run ${runId} has not finished (${pending} window(s) pending, ${progress.blocksMerged}/${progress.blocks} blocks merged): retry once fleet status says done`, 1);
    }
    const { reset, requeued, jobs, blocks } = await retryFailedWindows(connection, queues, runId, { onWarning: (msg) => log.warn({ runId }, msg) });
    log.info({ runId, windows: reset, requeued, jobs, blocks: blocks.length }, 'failed windows re-enqueued');
    process.stdout.write(`${JSON.stringify({ runId, windows: reset, requeued, blocks })}\n`);
    return 0;
  } finally {
    await queues.close();
    connection.disconnect();
  }
}
