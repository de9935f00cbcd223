import type { ServerResponse } from 'node:http';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const TITLES: Record<number, string> = { 400: 'Bad request', 401: 'Token required', 404: 'Not found', 405: 'Method not allowed', 416: 'Range not satisfiable', 500: 'Server error', 503: 'Unavailable' };

/**
 * An error answer a person can read: a small HTML page (or JSON for /api/ callers) with one
 * sentence; never a stack trace, which would show the server's paths and libraries.
 */
export function sendError(res: ServerResponse, status: number, message: string, asJson: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const title = TITLES[status] ?? 'Error';
  if (asJson) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: message }));
    return;
  }
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} ${title} - fleet console</title></head>` +
    `<body style="font-family:sans-serif;margin:2em"><h1>${status} ${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><a href="/">fleet console</a></p></body></html>`);
}
