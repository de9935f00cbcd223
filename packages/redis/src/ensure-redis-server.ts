import { spawnSync } from 'node:child_process';
import { findExecutable } from './find-executable';

export const REDIS_INSTALL_HINT =
  'redis-server is not installed: run `sudo apt-get install redis-server` (Debian/Ubuntu), or set REDIS_URL to an existing Redis';

/**
 * Path to redis-server. On a fresh Debian machine running as root it installs Debian's
 * package with apt-get (the only network the project may assume besides npm); otherwise it
 * fails with one line saying what to do.
 */
export function ensureRedisServer(log: (msg: string) => void = () => {}): string {
  const found = findExecutable('redis-server');
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !findExecutable('apt-get')) throw new Error(REDIS_INSTALL_HINT);
  log('redis-server not found: installing Debian package redis-server with apt-get');
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); ${REDIS_INSTALL_HINT}`);
  }
  const installed = findExecutable('redis-server') ?? (findExecutable('redis-server', '/usr/bin:/usr/sbin') as string | undefined);
  if (!installed) throw new Error(`apt-get installed redis-server but it is not on PATH; ${REDIS_INSTALL_HINT}`);
  return installed;
}
