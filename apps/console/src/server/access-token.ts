import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'fleet_console_token';

/** Hosts that only this machine can reach: the console needs no token there. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual wants equal lengths; comparing lengths first leaks only the length
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * How a request proves it may read the console: `Authorization: Bearer <token>` (scripts),
 * the cookie set after a first visit with `?token=` (browsers, so the token leaves the
 * address bar and every asset request carries it), or the query itself.
 */
export function requestToken(req: IncomingMessage, query: URLSearchParams): { token?: string; fromQuery: boolean } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), fromQuery: false };
  const fromQuery = query.get('token');
  if (fromQuery) return { token: fromQuery, fromQuery: true };
  const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
  return cookie === undefined ? { fromQuery: false } : { token: cookie, fromQuery: false };
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && sameSecret(given, expected);
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}
