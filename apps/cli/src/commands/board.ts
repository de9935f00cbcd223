import { createRedisConnection } from '@fleet/redis';
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error';
import { redactUrl, requireRedisUrl } from '../require-redis-url';

/** --port: 0 (any free port, printed) to 65535. */
function parsePort(value: string | undefined): number {
  if (value === undefined) return 3000;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new CliError(`--port ${value}: expected a port number 0-65535`);
  return port;
}

/**
 * `fleet board`: Bull Board over the fleet's queues until SIGTERM/SIGINT. Loopback by default;
 * another host needs FLEET_BOARD_TOKEN (checked before Redis is touched, exit 2).
 */
export async function boardCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, 'base-path': { type: 'string' }, 'allow-actions': { type: 'boolean' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new CliError(`${(err as Error).message}: usage: fleet board [--port N] [--host H] [--base-path P] [--allow-actions]`);
  }
  const port = parsePort(values.port);
  const host = values.host ?? '127.0.0.1';
  const { checkBoardAccess, parseBoardEnv, startBoard } = await import('@fleet/board');
  let env;
  try {
    env = parseBoardEnv();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const token = env.FLEET_BOARD_TOKEN;
  checkBoardAccess(host, token);
  const url = requireRedisUrl(process.env, 'board');
  const prefix = env.FLEET_QUEUE_PREFIX;
  const connection = createRedisConnection(url);
  // the board keeps serving while Redis is away (its pages say so); log each outage once
  let down = false;
  connection.on('error', (err: Error) => {
    if (!down) process.stderr.write(`fleet board: Redis at ${redactUrl(url)} unreachable: ${err.message}\n`);
    down = true;
  });
  connection.on('ready', () => (down = false));
  const board = await startBoard({
    connection,
    prefix,
    host,
    port,
    basePath: values['base-path'] ?? '/',
    allowActions: values['allow-actions'] ?? false,
    ...(token === undefined ? {} : { token }),
  }).catch((err: Error & { code?: string }) => {
    connection.disconnect();
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') throw new CliError(`cannot listen on ${host}:${port}: ${err.code}`);
    throw err;
  });
  const mode = values['allow-actions'] ? 'actions allowed' : 'read-only';
  const auth = token === undefined ? 'no auth (loopback only)' : 'FLEET_BOARD_TOKEN required';
  process.stdout.write(`fleet board: ${board.url} (queues under prefix ${prefix}, ${mode}, ${auth})\n`);
  // a long-lived part like the worker and merger: either signal is the normal way to stop it
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await board.close();
  connection.disconnect();
  return 0;
}
