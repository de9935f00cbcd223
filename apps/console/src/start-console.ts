import { createRedisConnection } from '@fleet/redis';
import { openStore } from '@fleet/storage';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isLoopbackHost } from './server/access-token';
import { createConsoleServer } from './server/console-server';
import { RunReader } from './server/run-reader';

export interface ConsoleOptions {
  /** The output (folder or s3://...) whose map is shown; undefined: runs from Redis only. */
  out?: string;
  /** Default 127.0.0.1: only this machine. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** REDIS_URL: live state of running runs; undefined: the output's run.json only. */
  redisUrl?: string;
  /** FLEET_QUEUE_PREFIX of the fleet. */
  prefix: string;
  /** FLEET_CONSOLE_TOKEN; required when host is not loopback. */
  token?: string;
  onError?: (err: unknown) => void;
}

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

export class ConsoleConfigError extends Error {
  readonly exitCode = 2;
}

/** Starts the console's server; refuses a non-loopback host without a token. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.token) {
    throw new ConsoleConfigError(`--host ${host} reaches beyond this machine: set FLEET_CONSOLE_TOKEN (the token browsers must present) or listen on 127.0.0.1`);
  }
  const store = options.out === undefined ? undefined : openStore(options.out);
  // a console outlives Redis restarts: the default connection reconnects for ever; requests fail fast meanwhile
  const redis = options.redisUrl ? createRedisConnection(options.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => {});
  const runs = new RunReader(redis, options.prefix, store);
  const server = createConsoleServer(
    { runs, publicDir: join(__dirname, 'public'), ...(store ? { store } : {}), ...(options.token ? { token: options.token } : {}) },
    options.onError ?? (() => {}),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis?.disconnect();
      await store?.close();
    },
  };
}
