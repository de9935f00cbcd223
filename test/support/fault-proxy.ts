/**
 * A fault-injecting HTTP proxy on loopback, in front of a real S3 server (s3rver): fleet
 * processes get its address as S3_ENDPOINT and every request goes through it. A rule
 * chooses, per request, to pass it on or to inject a fault the way S3 or a network fails:
 * an S3 error reply (503 SlowDown, 500 InternalError), a connection reset before any reply,
 * or a slow reply (the request is held, then forwarded unless the client gave up).
 *
 * Written by hand on node:http because the point is to fail in controlled, countable ways;
 * a general proxy library would hide the sockets this needs to reset.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: 500 | 503; code: 'InternalError' | 'SlowDown' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number };

/** What the rule sees of a request: its number (0 = first through the proxy), method and path. */
export interface ProxiedRequest {
  n: number;
  method: string;
  url: string;
}

export type FaultRule = (request: ProxiedRequest) => Fault | undefined;

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Replaces the rule; `undefined` passes everything on. */
  setRule(rule: FaultRule | undefined): void;
  /** Faults injected so far, by kind ("503", "500", "reset", "delay"). */
  readonly injected: Record<string, number>;
  /** Requests received so far (faulted or not). */
  requests(): number;
  stop(): Promise<void>;
}

const errorBody = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>fault</RequestId></Error>`;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let rule: FaultRule | undefined;
  let count = 0;
  const injected: Record<string, number> = {};
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server: Server = createServer((req, res) => {
    const n = count++;
    const fault = rule?.({ n, method: req.method ?? '', url: req.url ?? '' });
    if (!fault) return forward(req, res);
    if (fault.kind === 'reset') {
      injected.reset = (injected.reset ?? 0) + 1;
      // no reply at all: the client sees ECONNRESET / "socket hang up"
      req.socket.resetAndDestroy();
      return;
    }
    if (fault.kind === 'status') {
      injected[String(fault.status)] = (injected[String(fault.status)] ?? 0) + 1;
      // read the body first, so the client is not cut off mid-upload (that would be a reset)
      req.resume();
      req.on('end', () => {
        const body = errorBody(fault.code);
        res.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    injected.delay = (injected.delay ?? 0) + 1;
    // hold the request (its body waits in the socket), then pass it on if the client still waits
    req.pause();
    setTimeout(() => {
      if (req.socket.destroyed) return;
      req.resume();
      forward(req, res);
    }, fault.ms);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setRule(next) {
      rule = next;
    },
    injected,
    requests: () => count,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
