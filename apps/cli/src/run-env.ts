import { parseEnv } from '@fleet/config';
import { z } from 'zod';

/** What `fleet run` (and `fleet demo`) read from the environment beyond what their parts read. */
const runEnvShape = {
  /**
   * Seconds with no progress (no window finished, no block merged) and no job active in the
   * queues after which `fleet run` gives up with exit 1 and says what is pending and why.
   * Default 300: longer than a window's or a merge's retry backoff.
   */
  FLEET_RUN_STALL_S: z.coerce.number().int().min(1).default(300),
  /** Base folder of the private Redis's state for an S3 --out (default ${XDG_STATE_HOME:-~/.local/state}/flair-fleet). */
  FLEET_STATE_DIR: z.string().min(1).optional(),
};

export type RunEnv = z.infer<z.ZodObject<typeof runEnvShape>>;

export function parseRunEnv(env: NodeJS.ProcessEnv = process.env): RunEnv {
  return parseEnv(runEnvShape, env);
}
