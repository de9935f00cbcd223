import { redactUrl } from '@fleet/logging';
import { startPrivateRedis } from '@fleet/redis';
import { CliError } from './cli-error';

export interface CliRedis {
  url: string;
  /** True when this process started the server (and will stop it). */
  private: boolean;
  stop(): Promise<void>;
}

/** REDIS_URL if set; otherwise a private redis-server on a free loopback port (the embedded default). */
export async function redisForRun(env: NodeJS.ProcessEnv, note: (msg: string) => void): Promise<CliRedis> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, private: false, stop: async () => {} };
  const redis = await startPrivateRedis({ log: note });
  note(`REDIS_URL unset: started a private redis-server at ${redis.url}`);
  return { url: redis.url, private: true, stop: () => redis.stop() };
}

/** The parts run separately share one Redis: REDIS_URL is required. */
export function requireRedisUrl(env: NodeJS.ProcessEnv, command: string): string {
  const url = env.REDIS_URL;
  if (!url) throw new CliError(`needs REDIS_URL, the fleet's shared Redis: set it, e.g. REDIS_URL=redis://host:6379 fleet ${command}`);
  return url;
}

export { redactUrl };
