import { createLogger } from '@fleet/logging';
import { parseMergerEnv, startMerger } from '@fleet/merger';
import { parsePreparerEnv, startPreparer } from '@fleet/preparer';
import { parseWorkerEnv, startWorker } from '@fleet/worker';
import { requireRedisUrl } from '../redis-for-cli';

/**
 * Runs a long-lived part (worker or merger) until SIGTERM/SIGINT, then shuts down gracefully:
 * stop taking jobs, finish the ones in hand, close connections, exit 0.
 */
async function serve(name: 'worker' | 'merger' | 'preparer', shutdownMs: number, start: () => Promise<{ close(): Promise<void> }>): Promise<number> {
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

export function workerCommand(): Promise<number> {
  const env = parseWorkerEnv();
  const url = requireRedisUrl(process.env, 'worker');
  return serve('worker', env.FLEET_SHUTDOWN_MS, () => startWorker(url, env));
}

export function mergerCommand(): Promise<number> {
  const env = parseMergerEnv();
  const url = requireRedisUrl(process.env, 'merger');
  return serve('merger', env.FLEET_SHUTDOWN_MS, () => startMerger(url, env));
}

export function preparerCommand(): Promise<number> {
  const env = parsePreparerEnv();
  const url = requireRedisUrl(process.env, 'preparer');
  return serve('preparer', env.FLEET_SHUTDOWN_MS, () => startPreparer(url, env));
}
