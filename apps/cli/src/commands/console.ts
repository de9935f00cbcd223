import { parseArgs } from 'node:util';
import { CliError } from '../cli-error';
import { queuePrefix } from '../queue-prefix';
import { intOption } from '../run-args';
import { CONSOLE_USAGE } from '../usage';

const OPTIONS = { out: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** `fleet console`: serves the web console until SIGTERM/SIGINT. */
export async function consoleCommand(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: argv, options: OPTIONS }).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message}: usage: ${CONSOLE_USAGE.split('\n')[0]}`);
  }
  if (values.help) {
    process.stdout.write(`${CONSOLE_USAGE}\n`);
    return 0;
  }
  const port = intOption('port', values.port, 0) ?? 8080;
  if (port > 65_535) throw new CliError(`--port must be 0-65535, got ${port}`);
  const { startConsole } = await import('@fleet/console');
  const { createLogger } = await import('@fleet/logging');
  const log = createLogger('console');
  const running = await startConsole({
    ...(values.out === undefined ? {} : { out: values.out }),
    ...(values.host === undefined ? {} : { host: values.host }),
    port,
    ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
    prefix: queuePrefix(),
    ...(process.env.FLEET_CONSOLE_TOKEN ? { token: process.env.FLEET_CONSOLE_TOKEN } : {}),
    onError: (err) => log.error({ err }, 'request failed'),
  }).catch((err: Error & { code?: string }) => {
    if (err.code === 'EADDRINUSE') throw new CliError(`port ${port} is already in use: pick another with --port`);
    throw err;
  });
  const sources = [values.out ? `the map in ${values.out}` : 'no output (--out)', process.env.REDIS_URL ? 'live runs from REDIS_URL' : 'no REDIS_URL: finished runs only'];
  process.stdout.write(`console: ${running.url}  (${sources.join(', ')}; Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await running.close();
  return 0;
}
