import { errorMessage, FleetQueues, isPermanent, QUEUES, startConsumer } from '@fleet/jobs';
import { createLogger, type Logger } from '@fleet/logging';
import { consumerProblems, registerQueueMetrics, startProcessOps, WorkerMetrics } from '@fleet/metrics';
import { onnxruntimeVersion, probeProvider, ProviderUnavailableError } from '@fleet/model';
import { sharedTileCache } from '@fleet/raster';
import { createRedisConnection } from '@fleet/redis';
import type { Worker } from 'bullmq';
import type IORedis from 'ioredis';
import type { WorkerEnv } from './env';
import { ModelEngines } from './model-engines';
import { WorkerStartError } from './worker-start-error';
import { applyTensorrtSettings } from './tensorrt-settings';
import { groupConcurrency } from './group-concurrency';
import { GroupProcessor, type WindowRunner } from './group-processor';
import { RunContexts } from './run-context';
import { WindowLimiter } from './window-limiter';
import { inferWindow } from './window-steps';

export { groupConcurrency };

export interface RunningWorker {
  readonly worker: Worker;
  /** Port of the /metrics, /livez, /readyz server; undefined when FLEET_METRICS_PORT is 0. */
  readonly metricsPort: number | undefined;
  /** Stops taking jobs, lets the jobs in hand finish, then releases everything. */
  close(): Promise<void>;
}

export interface WorkerHooks {
  /**
   * Replaces a window's read, inference and upload (default: inferWindow with the run's
   * reader, the model engine and the output store). The control-plane benchmark injects a
   * no-op to measure the queue and the run state alone.
   */
  runWindow?: WindowRunner;
}

/**
 * A worker process's main loop: a BullMQ worker on the infer queue taking group jobs; the
 * windows of all the groups in hand go through one limiter of 2 x FLEET_BATCH_SIZE windows in
 * flight, and the inference engine gathers them into batches (BullMQ OSS has no batch API).
 */
export async function startWorker(redisUrl: string, env: WorkerEnv, log: Logger = createLogger('worker'), hooks: WorkerHooks = {}): Promise<RunningWorker> {
  if (env.FLEET_PROVIDER === 'tensorrt') {
    const trt = applyTensorrtSettings({ cacheDir: env.FLEET_TRT_CACHE_DIR, fp16: env.FLEET_TRT_FP16 }, onnxruntimeVersion());
    log.info(trt, 'tensorrt settings');
  }
  // The ops server comes first so that /livez answers and /readyz says why not during a model
  // load and warm-up that can take minutes (TensorRT); Redis is pinged once it is connected.
  let modelLoaded = env.FLEET_MODEL === undefined;
  let pinged: IORedis | undefined;
  let consumer: ReturnType<typeof startConsumer> | undefined;
  const ops = await startProcessOps({
    component: 'worker',
    env,
    redis: { ping: () => pinged?.ping() ?? Promise.resolve('PONG') },
    ready: () => (modelLoaded ? consumerProblems(consumer?.worker) : [`model ${env.FLEET_MODEL ?? ''} not loaded and warmed yet`]),
  });
  const metrics = new WorkerMetrics(ops.registry, () => sharedTileCache.stats());
  const engines = new ModelEngines({
    provider: env.FLEET_PROVIDER,
    ...(env.FLEET_PROVIDER_FALLBACK === undefined ? {} : { fallback: env.FLEET_PROVIDER_FALLBACK }),
    batchSize: env.FLEET_BATCH_SIZE,
    intraOpThreads: env.FLEET_THREADS,
    warmup: env.FLEET_WARMUP,
    onWarning: (msg) => log.warn(msg),
    // one info line per session.run, so a worker's info log shows it working (windows are debug)
    onBatch: (b) => {
      metrics.batch(b.windows, b.runMs, b.provider);
      log.info({ windows: b.windows, batchSize: b.batchSize, runMs: Math.round(b.runMs * 10) / 10, provider: b.provider }, 'batch inferred');
    },
  });
  // Loaded and warmed before any job is taken, or a connection opened: a worker that cannot run
  // its model (or its provider) fails here, at start, instead of on its first job.
  let providerInUse: string = env.FLEET_PROVIDER;
  if (env.FLEET_MODEL !== undefined) {
    try {
      const engine = await engines.get(env.FLEET_MODEL, ModelEngines.DEFAULT_TOP_K);
      providerInUse = engine.provider;
    } catch (err) {
      await Promise.all([engines.close(), ops.close()]);
      throw err instanceof ProviderUnavailableError ? providerStartError(env.FLEET_PROVIDER, err) : new WorkerStartError(`FLEET_MODEL=${env.FLEET_MODEL} cannot be loaded: ${errorMessage(err)}`);
    }
  } else if (env.FLEET_PROVIDER !== 'cpu') {
    // No model to preload: the provider itself is still asserted at start.
    try {
      providerInUse = await probeProvider(env.FLEET_PROVIDER, { ...(env.FLEET_PROVIDER_FALLBACK === undefined ? {} : { fallback: env.FLEET_PROVIDER_FALLBACK }), onWarning: (msg) => log.warn(msg) });
    } catch (err) {
      await ops.close();
      throw providerStartError(env.FLEET_PROVIDER, err);
    }
  }
  modelLoaded = true;
  metrics.setProvider(providerInUse);
  const connection = createRedisConnection(redisUrl);
  pinged = connection;
  // BullMQ never closes connections it is given: both are disconnected in close()
  const workerConnection = createRedisConnection(redisUrl);
  sharedTileCache.resize(env.FLEET_TILE_CACHE_MB * 1024 * 1024);
  const queues = new FleetQueues(connection, env.FLEET_QUEUE_PREFIX);
  const contexts = new RunContexts(connection, env.FLEET_QUEUE_PREFIX);
  registerQueueMetrics(ops.registry, [queues.infer]);
  const runWindow: WindowRunner = hooks.runWindow ?? (async (ctx, w) => {
    const engine = await engines.get(ctx.spec.model.location, ctx.spec.topK);
    return inferWindow({ runId: ctx.spec.runId, plan: ctx.plan, reader: ctx.reader, output: ctx.output, engine }, w);
  });
  const inFlight = env.FLEET_BATCH_SIZE * 2;
  const processor = new GroupProcessor(contexts, runWindow, new WindowLimiter(inFlight), queues, log, env.FLEET_BATCH_SIZE, (runId, outcome, stats) =>
    metrics.window(runId, outcome, stats),
  );

  consumer = startConsumer(
    QUEUES.infer,
    {
      'infer-group': async (payload, job) => {
        if (env.FLEET_CONCURRENCY === undefined) {
          const ctx = await contexts.get(payload.runId).catch(() => undefined);
          const wanted = ctx ? groupConcurrency(inFlight, ctx.geometry.groupSide ** 2) : undefined;
          if (wanted !== undefined && consumer && consumer.worker.concurrency !== wanted) consumer.worker.concurrency = wanted;
        }
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        try {
          return await processor.process(payload, { attempt: job.attemptsMade + 1, lastAttempt });
        } catch (err) {
          // the bootstrap turns permanent errors into UnrecoverableError
          log.warn({ runId: payload.runId, group: `${payload.group.row}-${payload.group.col}`, attempt: job.attemptsMade + 1, permanent: isPermanent(err), err: errorMessage(err) }, 'group failed');
          throw err;
        }
      },
    },
    {
      connection: workerConnection,
      prefix: env.FLEET_QUEUE_PREFIX,
      log,
      // until the first job says how big the run's groups are: one-window groups' figure
      concurrency: env.FLEET_CONCURRENCY ?? inFlight,
      lockDuration: env.FLEET_LOCK_MS,
      stalledInterval: env.FLEET_STALLED_MS,
    },
  );
  const worker = consumer.worker;
  const running = consumer;
  log.info({ provider: providerInUse, ...(ops.port === undefined ? {} : { metricsPort: ops.port }), ...(env.FLEET_MODEL === undefined ? {} : { model: env.FLEET_MODEL }), batchSize: env.FLEET_BATCH_SIZE, prefix: env.FLEET_QUEUE_PREFIX }, 'worker started');

  return {
    worker,
    metricsPort: ops.port,
    async close() {
      await running.close();
      await Promise.all([contexts.close(), engines.close(), queues.close(), ops.close()]);
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}

/** The one line a worker whose accelerator is missing stops with. */
function providerStartError(provider: string, err: unknown): Error {
  if (!(err instanceof ProviderUnavailableError)) return new WorkerStartError(`FLEET_PROVIDER=${provider} could not be checked: ${errorMessage(err)}`);
  return new WorkerStartError(`FLEET_PROVIDER=${provider}: ${err.message}; set FLEET_PROVIDER_FALLBACK=cpu to run on the CPU instead`);
}
