import { lifecycleEnv, parseEnv, redisEnv } from '@fleet/config';
import { metricsEnv } from '@fleet/metrics';
import { z } from 'zod';

/** What `fleet scheduler` reads from the environment (validated at start; a bad value names the variable). */
export const schedulerEnvShape = {
  FLEET_QUEUE_PREFIX: redisEnv.FLEET_QUEUE_PREFIX,
  ...lifecycleEnv,
  ...metricsEnv,
  /**
   * Where each firing's summary is POSTed as JSON (success and failure). Unset: no
   * notification, the outcome is only logged and kept for `fleet schedule list`. Empty counts
   * as unset: a Kubernetes Secret key left empty (secret.template.yaml) must not stop the pod.
   */
  FLEET_NOTIFY_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().startsWith('http', 'must be an http:// or https:// URL').optional()),
  /**
   * Hours a fired run may take before the firing gives up on it and reports it failed (the run
   * itself is not stopped). Default 20: a département's night, with room before the next one.
   */
  FLEET_SCHEDULE_TIMEOUT_H: z.coerce.number().positive().default(20),
  /** How often a firing reads its run's state in Redis, in ms. Default 5000. */
  FLEET_SCHEDULE_POLL_MS: z.coerce.number().int().min(50).default(5_000),
  /**
   * Firings held at once: each follows its run for hours but costs one Redis read per poll,
   * so this bounds how many schedules' runs go on in parallel. Default 16.
   */
  FLEET_SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).default(16),
};

export type SchedulerEnv = z.infer<z.ZodObject<typeof schedulerEnvShape>>;

export function parseSchedulerEnv(env: NodeJS.ProcessEnv = process.env): SchedulerEnv {
  return parseEnv(schedulerEnvShape, env);
}
