import { queuePrefix } from '../queue-prefix';
import { enqueueRun, preflightRun } from '@fleet/coordinator';
import { FleetQueues } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { planForCli } from '../plan-for-cli';
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
  const planned = await planForCli(request);
  const connection = createRedisConnection(url);
  const queues = new FleetQueues(connection, queuePrefix());
  try {
    const result = await enqueueRun(connection, queues, planned.spec, planned.windowsPerBlock, createLogger('coordinator'));
    process.stdout.write(`${JSON.stringify({ ...result, windows: planned.spec.windowCount, blocks: planned.spec.blocks.length })}\n`);
    return 0;
  } finally {
    await queues.close();
    connection.disconnect();
  }
}
