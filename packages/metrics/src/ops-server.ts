import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Reasons a process is not live (or not ready); none = it is. */
export type HealthCheck = () => string[] | Promise<string[]>;

export interface OpsServerOptions {
  /** Port to listen on; 0 = any free port (tests), read back from `port`. */
  port: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Served at /metrics in Prometheus's text format. */
  registry: Registry;
  /** /livez: 200 when this returns no reason, else 503 with the reasons. */
  live: HealthCheck;
  /** /readyz: 200 when this returns no reason (the process takes jobs), else 503 with the reasons. */
  ready: HealthCheck;
}

export interface OpsServer {
  /** The port listened on (the one asked for, or the one the system chose for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Paths the server answers; the manifests' probes and scrape settings use the same. */
export const OPS_PATHS = { metrics: '/metrics', live: '/livez', ready: '/readyz' } as const;

/**
 * The process's /metrics, /livez and /readyz on plain node:http: three routes need no framework,
 * and the server must stay up when everything else in the process is busy or broken.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    void answer(req, res, options).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${messageOf(err)}\n`);
      else res.destroy();
    });
  });
  // a probe or scraper that keeps its connection open must not hold the process at close()
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    throw new Error(`metrics server cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${messageOf(err)}`);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, options: OpsServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'GET only\n');
  switch (path) {
    case OPS_PATHS.metrics:
      return send(res, 200, options.registry.contentType, await options.registry.metrics());
    case OPS_PATHS.live:
      return health(res, await options.live());
    case OPS_PATHS.ready:
      return health(res, await options.ready());
    default:
      return send(res, 404, 'text/plain; charset=utf-8', `not found: ${path}; try ${Object.values(OPS_PATHS).join(', ')}\n`);
  }
}

function health(res: ServerResponse, reasons: string[]): void {
  const body = reasons.length === 0 ? { status: 'ok' } : { status: 'fail', reasons };
  send(res, reasons.length === 0 ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** An error's message (errors from node:net may come from another realm, so no instanceof). */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(err);
}
