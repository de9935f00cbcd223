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
    // the figures a real window records (tile bytes, stage times), so completion calls carry them
    runWindow: async () => ({ outcome: 'done', stats: { tileBytes: 220_000, readMs: 23, inferMs: 90, postMs: 6, uploadMs: 4 } }),
  });
  process.send?.('ready');
  process.once('SIGTERM', () => {
    void worker.close().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
