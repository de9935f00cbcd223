import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Who may see the board: a request carrying the token either as `Authorization: Bearer <token>`
 * (scripts, curl) or as HTTP basic auth whose password is the token, whatever the user name
 * (browsers: the basic-auth prompt, then the browser sends it with every asset and API call the
 * board's SPA makes, which a bearer header set by hand would not be).
 */
export function isAuthorized(authorization: string | undefined, token: string): boolean {
  if (!authorization) return false;
  const space = authorization.indexOf(' ');
  if (space < 0) return false;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return sameSecret(value, token);
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && sameSecret(decoded.slice(colon + 1), token);
  }
  return false;
}

/** Compares digests, so the time taken says nothing about the token's length or prefix. */
function sameSecret(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/**
 * True for a host the board may listen on without a token: loopback names and addresses only
 * (localhost, 127.0.0.0/8, ::1). Anything else, 0.0.0.0 and :: included, is reachable by others.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** The tokens too short to be worth guessing-resistance: refused at start. */
export const MIN_TOKEN_LENGTH = 16;
