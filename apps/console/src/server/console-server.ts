import type { ObjectStore } from '@fleet/storage';
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { requestToken, tokenCookie, tokenMatches } from './access-token';
import { sendError } from './error-page';
import { serveFile } from './file-route';
import { readPublishedRun } from './published-map';
import type { RunReader } from './run-reader';

export interface ConsoleServerOptions {
  /** The output store whose published map is shown; undefined: runs from Redis only. */
  store?: ObjectStore;
  runs: RunReader;
  /** FLEET_CONSOLE_TOKEN: when set, every request must carry it (see access-token.ts). */
  token?: string;
  /** Folder of the built front end (index.html, app.js, app.css). */
  publicDir: string;
}

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
  '/ol.css': 'ol.css',
};
const STATIC_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The console's HTTP server: the front end, a small JSON API, and the output's files. */
export function createConsoleServer(options: ConsoleServerOptions, onError: (err: unknown) => void): Server {
  return createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      onError(err);
      sendError(res, 500, 'the console could not answer this request (its log says why)', (req.url ?? '').startsWith('/api/'));
    });
  });
}

async function handle(options: ConsoleServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  const queryAt = raw.indexOf('?');
  // the raw path, not a normalised URL: /files/../x must reach the key check as it was sent
  const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : raw.slice(queryAt + 1));
  const isApi = path.startsWith('/api/');

  if (options.token !== undefined) {
    const given = requestToken(req, query);
    if (!tokenMatches(given.token, options.token)) {
      return sendError(res, 401, 'this console needs its token: open it once with ?token=<FLEET_CONSOLE_TOKEN> or send Authorization: Bearer <token>', isApi);
    }
    if (given.fromQuery && req.method === 'GET' && !isApi && !path.startsWith('/files/')) {
      // keep the token out of the address bar and the history: a cookie carries it from now on
      query.delete('token');
      const rest = query.toString();
      res.writeHead(303, { 'set-cookie': tokenCookie(options.token), location: `${path}${rest ? `?${rest}` : ''}` });
      res.end();
      return;
    }
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, `${req.method} is not served here: the console only reads`, isApi);

  if (path.startsWith('/files/')) {
    if (!options.store) return sendError(res, 404, 'this console was started without --out: it has no output to serve', false);
    return serveFile(options.store, path.slice('/files/'.length), req, res);
  }
  if (path === '/api/runs') return sendJson(res, await options.runs.list());
  const runMatch = /^\/api\/runs\/([^/]+)$/.exec(path);
  if (runMatch) {
    const runId = decodeURIComponent(runMatch[1]!);
    const run = await options.runs.get(runId);
    if (!run) return sendError(res, 404, `no run ${JSON.stringify(runId)} in Redis nor in the output`, true);
    return sendJson(res, run);
  }
  if (path === '/api/map') {
    const published = options.store ? await readPublishedRun(options.store) : undefined;
    if (!published) return sendError(res, 404, options.store ? `nothing published in ${options.store.location} yet (no run.json)` : 'started without --out: no map', true);
    return sendJson(res, {
      runId: published.runId,
      layout: published.layout,
      publishedAt: published.publishedAt ?? published.report.finishedAt,
      classes: (published.report.classes ?? []).map((c) => ({ id: c.id, name: c.name, color: c.color })),
      blocks: published.blocks,
      areasKey: published.areasKey,
      changes: published.changes,
    });
  }
  if (isApi) return sendError(res, 404, `no API ${path}`, true);

  const file = STATIC_FILES[path];
  if (!file) return sendError(res, 404, `${path}: no such page (the console's pages are under /#/...)`, false);
  const full = join(options.publicDir, file);
  if (!existsSync(full)) return sendError(res, 500, `the front end is not built (${file} missing): run npm run build`, false);
  res.writeHead(200, { 'content-type': STATIC_TYPES[file.split('.').pop()!]!, 'cache-control': 'no-cache' });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(full).pipe(res);
}
