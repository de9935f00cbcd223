import { queuePrefix } from '../queue-prefix';
import { enqueueRun, preflightRun } from '@fleet/coordinator';
import { FleetQueues } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { planForCli } from '../plan-for-cli';
import { unchangedMessage } from '../published-run';
import { planAgainstPublished } from '../refresh-run';
import { openStore } from '@fleet/storage';
import { parseRunArgs } from '../run-args';
import { requireRedisUrl } from '../redis-for-cli';
import { ENQUEUE_USAGE } from '../usage';

export async function enqueueCommand(argv: string[]): Promise<number> {
  const { request, help } = parseRunArgs(argv);
  if (help) {
    process.stdout.write(`${ENQUEUE_USAGE}\n`);
    return 0;
  }
  const url = requireRedisUrl(process.env, 'enqueue');
  await preflightRun(request, { env: process.env, redisUrl: url, warn: (m) => process.stderr.write(`fleet enqueue: warning: ${m}\n`) });
  const log = createLogger('coordinator');
  // as `fleet run`: nothing to enqueue when nothing changed since the published run, and a
  // refresh of it (only the windows meeting the changed pixels) when it allows one
  const first = await planForCli(request);
  const against = await planAgainstPublished(openStore(first.spec.output), first, request.runId !== undefined, log);
  if ('unchanged' in against) {
    process.stdout.write(`${JSON.stringify({ runId: against.unchanged.runId, unchanged: true, message: unchangedMessage(against.unchanged, first.spec.output) })}\n`);
    return 0;
  }
  const { planned } = against;
  const connection = createRedisConnection(url);
  const queues = new FleetQueues(connection, queuePrefix());
  try {
    const result = await enqueueRun(connection, queues, planned.spec, planned.windowsPerBlock, log);
    process.stdout.write(`${JSON.stringify({ ...result, windows: planned.spec.windowCount, blocks: planned.spec.blocks.length, ...(planned.spec.refresh ? { refreshOf: planned.spec.refresh.previousRunId } : {}) })}\n`);
    return 0;
  } finally {
    await queues.close();
    connection.disconnect();
  }
}
