import { startPrivateRedis } from '@fleet/redis';
import { isS3Url } from '@fleet/storage';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface CliRedis {
  url: string;
  /** True when this process started the server (and will stop it). */
  private: boolean;
  /** The folder a private server keeps its AOF in (undefined with REDIS_URL). */
  stateDir?: string;
  /** The private server's pid (undefined with REDIS_URL). */
  pid?: number;
  stop(): Promise<void>;
}

/**
 * Where `fleet run`'s private Redis keeps its state for an output, so the same command after
 * a Ctrl-C resumes: for a local --out, `<out>/_fleet/redis` (it travels with the output);
 * for an S3 --out, `$FLEET_STATE_DIR/<hash>` or `${XDG_STATE_HOME:-~/.local/state}/flair-fleet/<hash>`,
 * the hash being the first 16 hex digits of the SHA-256 of the output's location.
 */
export function privateStateDir(output: string, env: NodeJS.ProcessEnv): string {
  if (!isS3Url(output)) return join(resolve(output), '_fleet', 'redis');
  const base = env.FLEET_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'flair-fleet');
  return join(base, createHash('sha256').update(output.replace(/\/+$/, '')).digest('hex').slice(0, 16));
}

/**
 * REDIS_URL if set; otherwise a private redis-server on a free loopback port (the embedded
 * default), with append-only persistence in `stateDir` when one is given (else a temp folder
 * removed on stop).
 */
export async function redisForRun(env: NodeJS.ProcessEnv, note: (msg: string) => void, stateDir?: string): Promise<CliRedis> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, private: false, stop: async () => {} };
  const redis = await startPrivateRedis({ log: note, ...(stateDir === undefined ? {} : { dir: stateDir, appendOnly: true }) });
  note(`REDIS_URL unset: started a private redis-server at ${redis.url}${stateDir ? `, its state in ${stateDir}` : ''}`);
  return {
    url: redis.url,
    private: true,
    ...(stateDir === undefined ? {} : { stateDir }),
    ...(redis.process.pid === undefined ? {} : { pid: redis.process.pid }),
    stop: () => redis.stop(),
  };
}

export { redactUrl, requireRedisUrl } from './require-redis-url';
