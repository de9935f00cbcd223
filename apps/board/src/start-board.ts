import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBoardHandler, type BoardOptions } from './board-handler';
import { isLoopbackHost, MIN_TOKEN_LENGTH } from './board-auth';

/** Why the board will not start (exit code 2: a configuration problem, not a transient one). */
export class BoardConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'BoardConfigError';
  }
}

export interface StartBoardOptions extends BoardOptions {
  /** Default 127.0.0.1: nobody else can reach it, so no token is needed there. */
  host?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
}

export interface RunningBoard {
  server: Server;
  /** e.g. http://127.0.0.1:3000/ */
  url: string;
  close(): Promise<void>;
}

/** Refuses a board reachable by others without a token, and a token too short to hold. */
export function checkBoardAccess(host: string, token: string | undefined): void {
  if (token === undefined) {
    if (!isLoopbackHost(host)) {
      throw new BoardConfigError(`refusing to listen on ${host} without FLEET_BOARD_TOKEN: set it (>= ${MIN_TOKEN_LENGTH} characters) or listen on 127.0.0.1`);
    }
    return;
  }
  if (token.length < MIN_TOKEN_LENGTH) throw new BoardConfigError(`FLEET_BOARD_TOKEN is ${token.length} characters long: use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 24)`);
}

/** The board on its own http server (what `fleet board` runs); 404 outside the base path. */
export async function startBoard(options: StartBoardOptions): Promise<RunningBoard> {
  const host = options.host ?? '127.0.0.1';
  checkBoardAccess(host, options.token);
  const board = createBoardHandler(options);
  const server = createServer((req, res) => {
    if (board.handle(req, res)) return;
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`the board is under ${board.basePath}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}${board.basePath === '/' ? '/' : `${board.basePath}/`}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await board.close();
    },
  };
}
