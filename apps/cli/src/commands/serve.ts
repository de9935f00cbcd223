import { createLogger } from '@fleet/logging';
import { CliError } from '../cli-error';
import { requireRedisUrl } from '../redis-for-cli';

/** The long-lived parts take their settings from the environment only: a stray argument is a mistake. */
function noArguments(name: string, argv: string[]): void {
  if (argv.length > 0) throw new CliError(`fleet ${name} takes no arguments (got ${JSON.stringify(argv[0])}); it is configured by the environment, see fleet ${name} --help`);
}

/**
 * Runs a long-lived part (worker or merger) until SIGTERM/SIGINT, then shuts down gracefully:
 * stop taking jobs, finish the ones in hand, close connections, exit 0.
 */
async function serve(name: 'worker' | 'merger' | 'preparer' | 'scheduler', shutdownMs: number, start: () => Promise<{ close(): Promise<void> }>): Promise<number> {
  const log = createLogger(name);
  const running = await start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  const deadline = setTimeout(() => {
    log.error({ ms: shutdownMs }, 'graceful shutdown took too long: exiting; unfinished jobs will be retried as stalled');
    process.exit(1);
  }, shutdownMs);
  deadline.unref();
  await running.close();
  clearTimeout(deadline);
  log.info('stopped');
  return 0;
}

export async function workerCommand(argv: string[] = []): Promise<number> {
  noArguments('worker', argv);
  // each part loads only its own app (a worker does not load the merger's GDAL-side code)
  const { parseWorkerEnv, startWorker } = await import('@fleet/worker');
  const env = parseWorkerEnv();
  const url = requireRedisUrl(process.env, 'worker');
  return serve('worker', env.FLEET_SHUTDOWN_MS, () => startWorker(url, env));
}

export async function mergerCommand(argv: string[] = []): Promise<number> {
  noArguments('merger', argv);
  const { parseMergerEnv, startMerger } = await import('@fleet/merger');
  const env = parseMergerEnv();
  const url = requireRedisUrl(process.env, 'merger');
  return serve('merger', env.FLEET_SHUTDOWN_MS, () => startMerger(url, env));
}

export async function preparerCommand(argv: string[] = []): Promise<number> {
  noArguments('preparer', argv);
  const { parsePreparerEnv, startPreparer } = await import('@fleet/preparer');
  const env = parsePreparerEnv();
  const url = requireRedisUrl(process.env, 'preparer');
  return serve('preparer', env.FLEET_SHUTDOWN_MS, () => startPreparer(url, env));
}

export async function schedulerCommand(argv: string[] = []): Promise<number> {
  noArguments('scheduler', argv);
  const { parseSchedulerEnv } = await import('../scheduler/scheduler-env.js');
  const { startScheduler } = await import('../scheduler/start-scheduler.js');
  const env = parseSchedulerEnv();
  const url = requireRedisUrl(process.env, 'scheduler');
  return serve('scheduler', env.FLEET_SHUTDOWN_MS, () => startScheduler(url, env));
}
