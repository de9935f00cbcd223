import { collectDefaultMetrics, Registry } from 'prom-client';
import { EventLoopLag } from './event-loop-lag';
import type { MetricsEnv } from './metrics-env';
import { startOpsServer, type HealthCheck, type OpsServer } from './ops-server';
import { redisProblem, type Pingable } from './redis-ping';

/** A long-lived process's metrics registry and, when FLEET_METRICS_PORT is set, its ops server. */
export interface ProcessOps {
  readonly registry: Registry;
  /** The server's port; undefined when FLEET_METRICS_PORT is 0. */
  readonly port: number | undefined;
  /** Reasons the process is not live now (event loop lag, Redis); what /livez answers. */
  live(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ProcessOpsOptions {
  /** fleet_process label of every metric (worker, merger, preparer, scheduler). */
  component: string;
  env: MetricsEnv;
  /** A connection the process already holds: /livez PINGs it. */
  redis: Pingable;
  /** Reasons the process does not take jobs now; /readyz answers 200 when there is none. */
  ready: HealthCheck;
}

/**
 * What each long-lived process (worker, merger, preparer, and later the scheduler) calls once
 * at start: a registry with Node's process metrics, and the /metrics, /livez and /readyz server
 * on FLEET_METRICS_PORT (none when it is 0). The process registers its own metrics in
 * `registry` and closes this after its consumer.
 */
export async function startProcessOps(options: ProcessOpsOptions): Promise<ProcessOps> {
  const { env } = options;
  // a registry per process part, not prom-client's global one: `fleet run` runs the merger
  // in the coordinator's process, and tests start several parts in one process
  const registry = new Registry();
  registry.setDefaultLabels({ fleet_process: options.component });
  if (env.FLEET_METRICS_PORT === 0) {
    return { registry, port: undefined, live: async () => [], close: async () => undefined };
  }
  collectDefaultMetrics({ register: registry });
  const lag = new EventLoopLag();
  const live = async (): Promise<string[]> => {
    const reasons: string[] = [];
    const lagMs = lag.maxMs();
    if (lagMs > env.FLEET_LIVEZ_MAX_LAG_MS) reasons.push(`event loop lag ${Math.round(lagMs)} ms over FLEET_LIVEZ_MAX_LAG_MS=${env.FLEET_LIVEZ_MAX_LAG_MS}`);
    const redis = await redisProblem(options.redis, env.FLEET_LIVEZ_REDIS_TIMEOUT_MS);
    if (redis) reasons.push(redis);
    return reasons;
  };
  let server: OpsServer;
  try {
    server = await startOpsServer({ port: env.FLEET_METRICS_PORT, host: env.FLEET_METRICS_HOST, registry, live, ready: options.ready });
  } catch (err) {
    lag.stop();
    throw err;
  }
  return {
    registry,
    port: server.port,
    live,
    async close() {
      lag.stop();
      await server.close();
    },
  };
}
