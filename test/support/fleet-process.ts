import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const FLEET_BIN = join(__dirname, '..', '..', 'apps', 'cli', 'bin', 'fleet.js');

export interface FleetProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs the built `fleet` CLI as a separate process, exactly as a fleet node would. `detached`:
 * the leader of its own process group, as a terminal runs it (kill(-pid) then reaches the group).
 */
export function startFleet(args: string[], env: Record<string, string>, options: { detached?: boolean } = {}): FleetProcess {
  const child = spawn(process.execPath, [FLEET_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.detached ? { detached: true } : {}),
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs a fleet command to completion. */
export async function runFleet(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startFleet(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export async function stopFleet(p: FleetProcess): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  return p.exited;
}
