import { isValidKey, ObjectNotFoundError, type ObjectStore } from '@fleet/storage';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './error-page';
import { parseRange } from './http-range';

const CONTENT_TYPES: Record<string, string> = {
  tif: 'image/tiff',
  tiff: 'image/tiff',
  json: 'application/json; charset=utf-8',
  png: 'image/png',
  vrt: 'application/xml; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** The output's own bookkeeping (lease, private Redis's files): never served. */
const PRIVATE_PREFIXES = ['_fleet/'];

/**
 * Pure: the object key a `/files/<key>` path names, or why it is refused. The raw request
 * path is used (not a URL-normalised one) so `..` cannot be resolved away before this check;
 * the key rule of @fleet/storage is what keeps a key inside the output on every backend.
 */
export function keyOfFilePath(rawPath: string): { key: string } | { status: 400 | 404; reason: string } {
  let key: string;
  try {
    key = decodeURIComponent(rawPath);
  } catch {
    return { status: 400, reason: 'the file path is not valid percent-encoding' };
  }
  if (!isValidKey(key)) return { status: 400, reason: `"${key}" is not a file of the output (no "..", no absolute path, no empty segment)` };
  if (PRIVATE_PREFIXES.some((p) => key.startsWith(p))) return { status: 404, reason: `${key}: no such file in the output` };
  return { key };
}

/**
 * Serves one object of the output store, whole or one byte range (206 + Content-Range), so
 * OpenLayers reads the COGs tile by tile; on S3 the bytes pass through this server, so the
 * browser needs neither credentials nor CORS on the bucket.
 */
export async function serveFile(store: ObjectStore, rawKeyPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = keyOfFilePath(rawKeyPath);
  if ('status' in parsed) return sendError(res, parsed.status, parsed.reason, false);
  const { key } = parsed;
  const head = await store.head(key);
  if (!head) return sendError(res, 404, `${key}: no such file in the output`, false);
  const type = CONTENT_TYPES[key.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
  const common = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'no-cache', ...(head.etag ? { etag: head.etag } : {}) };
  const range = parseRange(req.headers.range, head.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${head.size}` });
    res.end();
    return;
  }
  try {
    if (range) {
      const length = range.end - range.start + 1;
      const body = req.method === 'HEAD' ? Buffer.alloc(0) : await store.getRange(key, range.start, length);
      res.writeHead(206, { ...common, 'content-range': `bytes ${range.start}-${range.end}/${head.size}`, 'content-length': String(length) });
      res.end(body);
      return;
    }
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : await store.get(key);
    res.writeHead(200, { ...common, 'content-length': String(head.size) });
    res.end(body);
  } catch (err) {
    // the object went between head and get (a newer publication replaced it)
    if (err instanceof ObjectNotFoundError) return sendError(res, 404, `${key}: no such file in the output`, false);
    throw err;
  }
}
