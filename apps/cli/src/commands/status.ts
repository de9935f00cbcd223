import { queuePrefix } from '../queue-prefix';
import { RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { CliError } from '../cli-error';
import { requireRedisUrl } from '../redis-for-cli';

export async function statusCommand(argv: string[]): Promise<number> {
  const runId = argv[0];
  if (!runId) throw new CliError('usage: fleet status <run-id>');
  const connection = createRedisConnection(requireRedisUrl(process.env, 'status'));
  try {
    const progress = await new RunState(connection, queuePrefix(), runId).progress();
    if (!progress) throw new CliError(`no run ${runId} in this Redis (prefix ${queuePrefix()})`, 1);
    process.stdout.write(`${JSON.stringify(progress)}\n`);
    return 0;
  } finally {
    connection.disconnect();
  }
}
