import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeRedis } from './connection';
import { ensureRedisServer } from './ensure-redis-server';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** The server process, for tests that kill or restart it. */
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Append-only persistence, as production runs it. Default false (nothing to keep). */
  appendOnly?: boolean;
  /**
   * Working directory for AOF files, created if missing and kept on stop (a later server on
   * the same folder starts from its state). A server an earlier owner left running there (its
   * pid is in `fleet-redis.pid`: the owner was killed with SIGKILL) is stopped first, so two
   * servers never write one AOF. Default: a fresh temp dir, removed on stop.
   */
  dir?: string;
  /** Port; default a free one chosen by the OS. */
  port?: number;
  log?: (msg: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a redis-server on loopback for this process tree: the embedded default when
 * REDIS_URL is unset, and what every test suite uses. `maxmemory-policy noeviction` as
 * BullMQ requires (an evicted job key would be a lost window).
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const bin = ensureRedisServer(options.log);
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fleet-redis-'));
  const pidFile = join(dir, PID_FILE);
  if (!ownDir) {
    mkdirSync(dir, { recursive: true });
    await stopLeftover(pidFile, options.log);
  }
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', options.appendOnly ? 'yes' : 'no', '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes',
  ];
  // its own process group: a Ctrl-C on the terminal (SIGINT to the whole foreground group)
  // must not stop it under the workers still finishing their jobs; its owner stops it last
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  if (!ownDir && child.pid !== undefined) writeFileSync(pidFile, String(child.pid));
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url, child, () => stderr);
  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // SIGTERM: redis-server fsyncs the AOF and exits; SIGKILL if it has not after STOP_MS
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      else rmSync(pidFile, { force: true });
    },
  };
}

/** The pid file a private server with a given `dir` leaves there while it runs. */
export const PID_FILE = 'fleet-redis.pid';
/** How long stop() waits for redis-server to exit after SIGTERM before SIGKILL. */
const STOP_MS = 10_000;

/** Stops a redis-server whose pid `pidFile` names, if that process still is a redis-server. */
async function stopLeftover(pidFile: string, log?: (msg: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isSafeInteger(pid) || pid <= 0) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // gone (or no /proc: not Linux; then only a live pid is checked below)
    if (process.platform === 'linux') return;
  }
  if (process.platform === 'linux' && !cmdline.includes('redis-server')) return; // pid reused
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  log?.(`stopping the redis-server (pid ${pid}) a killed run left on ${pidFile.slice(0, -PID_FILE.length - 1)}`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_MS;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (alive() && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 20));
}

async function waitForPing(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}: ${stderr().trim()}`);
    try {
      await probeRedis(url, 1_000);
      return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on ${url} within 10 s`);
}
