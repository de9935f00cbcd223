/**
 * Pure: the one byte range of an HTTP `Range` header (RFC 9110 14.1.2) for an object of
 * `size` bytes. Only a single range is served: geotiff.js and browsers ask for one at a time,
 * and multipart/byteranges answers would need a body format nothing here reads.
 * - undefined: no usable Range header (answer 200 with the whole object);
 * - 'unsatisfiable': a well-formed range that starts past the end (answer 416).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    // suffix range: the last N bytes
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}
