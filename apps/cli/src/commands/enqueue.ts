import { queuePrefix } from '../queue-prefix';
import { enqueueRun, preflightRun } from '@fleet/coordinator';
import { FleetQueues } from '@fleet/jobs';
import { createLogger } from '@fleet/logging';
import { createRedisConnection } from '@fleet/redis';
import { planForCli } from '../plan-for-cli';
import { parseRunArgs } from '../run-args';
import { requireRedisUrl } from '../redis-for-cli';

export const ENQUEUE_USAGE = `fleet enqueue <same source/model/out options as fleet run>
  Plans and enqueues a run on REDIS_URL for a fleet of \`fleet worker\` and \`fleet merger\`
  processes; prints the run id. Repeating it (or resuming after a crash) adds nothing twice.`;

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
