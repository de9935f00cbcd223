import { listRuns, type RunListing } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { CliError } from '../cli-error';
import { queuePrefix } from '../queue-prefix';
import { redactUrl, requireRedisUrl } from '../require-redis-url';
import { RUNS_USAGE } from '../usage';

function line(r: RunListing): string {
  const expires = r.expiresInS === undefined ? '' : `  expires in ${(r.expiresInS / 86_400).toFixed(1)} d`;
  const failed = r.failed ? ` (${r.failed} failed)` : '';
  return `${r.runId}  ${r.createdAt}  ${r.status}  ${r.finished}/${r.windows} windows${failed}  ${r.blocksMerged}/${r.blocks} blocks${expires}`;
}

/** `fleet runs`: lists the runs whose state is in Redis and prunes expired ones from the index. */
export async function runsCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${RUNS_USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--json');
  if (unknown.length) throw new CliError(`unknown argument ${unknown[0]}: usage: fleet runs [--json]`);
  const url = requireRedisUrl(process.env, 'runs');
  // a one-shot question (like fleet status): an unreachable Redis is an error, not a hang
  const connection = createRedisConnection(url, { maxRetriesPerRequest: 3, retryStrategy: (times) => (times > 5 ? null : 100 * 2 ** times) });
  let lastError = '';
  connection.on('error', (err: Error) => (lastError = err.message));
  try {
    const { runs, pruned } = await listRuns(connection, queuePrefix()).catch((err: Error) => {
      throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${lastError || err.message}`);
    });
    if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ runs, pruned })}\n`);
    else {
      for (const r of runs) process.stdout.write(`${line(r)}\n`);
      if (!runs.length) process.stdout.write('no runs\n');
      if (pruned.length) process.stderr.write(`forgot ${pruned.length} expired run(s): ${pruned.join(', ')}\n`);
    }
    return 0;
  } finally {
    connection.disconnect();
  }
}
