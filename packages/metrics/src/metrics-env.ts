import { z } from 'zod';

/** The ops server's settings, shared by every long-lived process's env.ts. */
export const metricsEnv = {
  /**
   * Port of the /metrics, /livez and /readyz server. 0 (the default) = no server: processes
   * the CLI spawns on a laptop open no port unless asked. The manifests set 9464.
   */
  FLEET_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  /**
   * Address the server listens on. Default 127.0.0.1: a laptop's metrics are not offered to its
   * network; containers set 0.0.0.0 so the kubelet and Prometheus reach the pod's IP.
   */
  FLEET_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** /livez fails when the event loop lagged more than this (ms) in the last seconds. */
  FLEET_LIVEZ_MAX_LAG_MS: z.coerce.number().int().min(10).default(10_000),
  /** /livez fails when Redis does not answer PING within this (ms). */
  FLEET_LIVEZ_REDIS_TIMEOUT_MS: z.coerce.number().int().min(10).default(2_000),
};

export type MetricsEnv = z.infer<z.ZodObject<typeof metricsEnv>>;
