/**
 * A worker process of the control-plane benchmark: the real worker (startWorker: BullMQ group
 * jobs, done-bits read, window limiter, bulk completion, merge enqueueing) with each window's
 * read, inference and upload injected as a no-op. Stops on SIGTERM like `fleet worker`.
 */
import { createLogger } from '@fleet/logging';
import { parseWorkerEnv, startWorker } from '@fleet/worker';

async function main(): Promise<void> {
  const env = parseWorkerEnv();
  const worker = await startWorker(env.REDIS_URL!, env, createLogger('bench-worker'), {
    runWindow: async () => ({ outcome: 'done', stats: {} }),
  });
  process.once('SIGTERM', () => {
    void worker.close().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
