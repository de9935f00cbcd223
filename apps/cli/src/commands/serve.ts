import { createLogger } from '@fleet/logging';
import { parseMergerEnv, startMerger } from '@fleet/merger';
import { parseWorkerEnv, startWorker } from '@fleet/worker';
import { requireRedisUrl } from '../redis-for-cli';

/** How long a SIGTERM'd process may take to finish the jobs in hand (FLEET_SHUTDOWN_MS). */
const SHUTDOWN_MS = Number(process.env.FLEET_SHUTDOWN_MS ?? 60_000);

/**
 * Runs a long-lived part (worker or merger) until SIGTERM/SIGINT, then shuts down gracefully:
 * stop taking jobs, finish the ones in hand, close connections, exit 0.
 */
async function serve(name: 'worker' | 'merger', start: () => Promise<{ close(): Promise<void> }>): Promise<number> {
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
    log.error({ ms: SHUTDOWN_MS }, 'graceful shutdown took too long: exiting; unfinished jobs will be retried as stalled');
    process.exit(1);
  }, SHUTDOWN_MS);
  deadline.unref();
  await running.close();
  clearTimeout(deadline);
  log.info('stopped');
  return 0;
}

export function workerCommand(): Promise<number> {
  const env = parseWorkerEnv();
  const url = requireRedisUrl(process.env, 'worker');
  return serve('worker', () => startWorker(url, env));
}

export function mergerCommand(): Promise<number> {
  const env = parseMergerEnv();
  const url = requireRedisUrl(process.env, 'merger');
  return serve('merger', () => startMerger(url, env));
}
