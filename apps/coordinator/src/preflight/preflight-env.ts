import { parseEnv } from '@fleet/config';
import { z } from 'zod';
import { PreflightError } from './preflight-error';

/** What the preflight reads from the environment, parsed once like every app's env.ts. */
export const preflightEnvShape = {
  /** Longest wait for REDIS_URL to connect, authenticate and answer PING before `fleet run`/`enqueue` give up. Default 5000. */
  FLEET_REDIS_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** The provider workers will ask for: the model is loaded on it once, here. Default cpu. */
  FLEET_PROVIDER: z.enum(['cpu', 'cuda', 'tensorrt']).default('cpu'),
  /**
   * As the worker's: `cpu` lets a provider this machine lacks fall back (a warning here); unset
   * (default), the run is refused, as a worker without it would refuse to start.
   */
  FLEET_PROVIDER_FALLBACK: z.enum(['cpu']).optional(),
};

export type PreflightEnv = z.infer<z.ZodObject<typeof preflightEnvShape>>;

export function parsePreflightEnv(env: NodeJS.ProcessEnv = process.env): PreflightEnv {
  try {
    return parseEnv(preflightEnvShape, env);
  } catch (err) {
    throw new PreflightError((err as Error).message);
  }
}
