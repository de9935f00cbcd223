import { FleetSchedules, type ScheduledRequest, type ScheduleEntry } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { CliError } from '../cli-error';
import { queuePrefix } from '../queue-prefix';
import { redactUrl, requireRedisUrl } from '../redis-for-cli';
import { parseScheduleAdd } from '../schedule-args';

/** `fleet schedule add|list|remove`: the fleet's schedules, kept in REDIS_URL's Redis. */
export async function scheduleCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      // only add needs the coordinator's checks (list and remove load neither it nor onnxruntime)
      const { requestProblems } = await import('@fleet/coordinator');
      const add = parseScheduleAdd(rest, requestProblems);
      return withSchedules(async (schedules) => {
        const { replaced, next } = await schedules.upsert(add.name, add.cron, add.tz, add.request as ScheduledRequest);
        process.stdout.write(
          `${JSON.stringify({ schedule: add.name, cron: add.cron, tz: add.tz ?? 'UTC', next: next === undefined ? null : new Date(next).toISOString(), replaced, request: add.request })}\n`,
        );
      });
    }
    case 'list': {
      const json = rest[0] === '--json';
      if (rest.length > (json ? 1 : 0)) throw new CliError('usage: fleet schedule list [--json]');
      return withSchedules(async (schedules) => {
        const list = await schedules.list();
        process.stdout.write(json ? `${JSON.stringify(list)}\n` : scheduleTable(list));
      });
    }
    case 'remove': {
      const name = rest[0];
      if (name === undefined || rest.length > 1) throw new CliError('usage: fleet schedule remove <name>');
      return withSchedules(async (schedules) => {
        if (!(await schedules.remove(name))) throw new CliError(`no schedule ${JSON.stringify(name)} in this Redis (prefix ${queuePrefix()}); fleet schedule list shows them`, 1);
        process.stdout.write(`removed schedule ${name}\n`);
      });
    }
    default:
      throw new CliError(`${sub === undefined ? 'a subcommand is needed' : `unknown subcommand "${sub}"`}: add, list or remove (fleet schedule --help)`);
  }
}

/**
 * A one-shot command: gives up after a few reconnects (about 3 s) like `fleet status`, so an
 * unreachable Redis is an error, not a hang.
 */
async function withSchedules(action: (schedules: FleetSchedules) => Promise<void>): Promise<number> {
  const url = requireRedisUrl(process.env, 'schedule');
  const prefix = queuePrefix();
  const connection = createRedisConnection(url, { maxRetriesPerRequest: 3, retryStrategy: (times) => (times > 5 ? null : 100 * 2 ** times) });
  let lastError = '';
  connection.on('error', (err: Error) => (lastError = err.message));
  const schedules = new FleetSchedules(connection, connection, prefix);
  try {
    await connection.ping().catch((err: Error) => {
      throw new CliError(`cannot reach Redis at ${redactUrl(url)}: ${lastError || err.message}`, 1);
    });
    await action(schedules);
    return 0;
  } finally {
    await schedules.close().catch(() => undefined);
    connection.disconnect();
  }
}

/** One line per schedule: name, cron, zone, next firing, last run (id, state, when). */
export function scheduleTable(list: readonly ScheduleEntry[]): string {
  if (list.length === 0) return 'no schedules (fleet schedule add <name> --cron "<expr>" ... adds one)\n';
  const rows = [
    ['NAME', 'CRON', 'TZ', 'NEXT RUN', 'LAST RUN', 'STATE', 'LAST FIRED'],
    ...list.map((s) => [
      s.name,
      s.cron,
      s.tz ?? 'UTC',
      s.next === undefined ? '-' : new Date(s.next).toISOString(),
      s.last?.runId ?? '-',
      s.last?.state ?? '-',
      s.last?.firedAt ?? '-',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}
