import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
// Hono rather than the Express adapter: hono and @hono/node-server have no dependencies of
// their own (Express 5 brings about 30 packages), run on node >= 20, and
// @hono/node-server's getRequestListener turns the board into a plain (req, res) listener that
// any node http server (the CLI's own, or the web console's) can call for its base path.
import { HonoAdapter } from '@bull-board/hono';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { QUEUES } from '@fleet/jobs';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type IORedis from 'ioredis';
import { isAuthorized } from './board-auth';

export interface BoardOptions {
  /** The fleet's Redis; the caller owns it (close() leaves it open). */
  connection: IORedis;
  /** FLEET_QUEUE_PREFIX of the fleet whose queues are shown. */
  prefix: string;
  /** Where the board answers, e.g. `/` or `/board` (no trailing slash needed). Default `/`. */
  basePath?: string;
  /**
   * FLEET_BOARD_TOKEN: every request must carry it (bearer, or basic-auth password); undefined
   * means no auth, for a board on loopback only (the caller decides, see isLoopbackHost).
   */
  token?: string;
  /** Lets the board retry, clean, promote and remove jobs. Default false: read-only. */
  allowActions?: boolean;
}

export interface BoardHandler {
  /**
   * Answers a request under the base path (401 without the token) and returns true; returns
   * false, having written nothing, for any other path, so the host can answer it itself.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  readonly basePath: string;
  /** Closes the board's queue handles (not the connection). */
  close(): Promise<void>;
}

/** Every queue the fleet uses (queue-names.ts), under its prefix. */
function fleetQueues(connection: IORedis, prefix: string): Queue[] {
  return Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix }));
}

/** `board/` -> `/board`, `/` -> `/`. */
export function normaliseBasePath(path: string): string {
  const trimmed = `/${path}`.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/**
 * Bull Board over the fleet's queues as a node request handler mounted at `basePath`: the CLI's
 * `fleet board` serves it alone, a web console can route its own base path to it.
 */
export function createBoardHandler(options: BoardOptions): BoardHandler {
  const basePath = normaliseBasePath(options.basePath ?? '/');
  const queues = fleetQueues(options.connection, options.prefix);
  const readOnlyMode = !options.allowActions;
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode, allowRetries: !readOnlyMode })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'flair-fleet' } },
  });
  // not strict: `/board/` and `/board` are the same page (a host may link either)
  const app = new Hono({ strict: false });
  app.route(basePath, serverAdapter.registerPlugin());
  const listener = getRequestListener(app.fetch);
  const token = options.token;

  const isUnder = (url: string): boolean => {
    const path = url.split('?')[0] ?? '';
    return basePath === '/' || path === basePath || path.startsWith(`${basePath}/`);
  };

  return {
    basePath,
    handle(req, res) {
      if (!isUnder(req.url ?? '/')) return false;
      if (token !== undefined && !isAuthorized(req.headers.authorization, token)) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fleet board", charset="UTF-8"', 'Content-Type': 'text/plain' });
        res.end('FLEET_BOARD_TOKEN required: basic auth (any user, the token as password) or Authorization: Bearer <token>\n');
        return true;
      }
      void listener(req, res);
      return true;
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}

/**
 * Mounts the board on a running (or not yet listening) node http server, e.g. the web
 * console's: requests under `basePath` go to the board, every other one to the server's own
 * request listeners as before. Mount after the host's listener is in place
 * (`createServer(handler)` puts it there); one added later would see the board's requests too.
 */
export function mountBoard(server: Server, options: BoardOptions): BoardHandler {
  const board = createBoardHandler(options);
  const hostListeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (board.handle(req, res)) return;
    for (const listener of hostListeners) listener.call(server, req, res);
  });
  return board;
}
