import { queuePrefix } from '../queue-prefix';
import { RunState, runFatalFailures } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { CliError } from '../cli-error';
import { redactUrl, requireRedisUrl } from '../redis-for-cli';

/**
 * `fleet status <run>`: the run's counters plus windows done/skipped/failed/pending per block
 * and the failed windows' errors, all read from the run state in Redis, so the answer holds
 * whichever process died.
 */
export async function statusCommand(argv: string[]): Promise<number> {
  const runId = argv[0];
  if (!runId || argv.length > 1) throw new CliError('usage: fleet status <run-id>');
  // a one-shot question: give up after a few reconnects (about 3 s) instead of waiting for
  // ever like the long-lived processes, so an unreachable Redis is an error, not a hang
  const url = requireRedisUrl(process.env, 'status');
  const connection = createRedisConnection(url, {
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => (times > 5 ? null : 100 * 2 ** times),
  });
  let lastError = '';
  connection.on('error', (err: Error) => (lastError = err.message));
  try {
    const state = new RunState(connection, queuePrefix(), runId);
    const progress = await state.progress().catch((err: Error) => {
      throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${lastError || err.message}`);
    });
    if (!progress) throw new CliError(`no run ${runId} in this Redis (prefix ${queuePrefix()})`, 1);
    const [blocks, failures, fatal] = await Promise.all([state.blockProgress(), state.failures(), runFatalFailures(connection, queuePrefix(), runId)]);
    const pending = progress.windows - progress.done - progress.skipped - progress.failed;
    // a merge or finalisation that failed for good: the run cannot finish as it stands
    const status = Object.keys(fatal).length > 0 && progress.status !== 'done' ? 'failed' : progress.status;
    process.stdout.write(`${JSON.stringify({ ...progress, status, pending, blockWindows: blocks, failures, runFailures: fatal })}\n`);
    return 0;
  } finally {
    connection.disconnect();
  }
}
