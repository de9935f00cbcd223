/**
 * A Redis URL with its password replaced, for messages and logs. In a file of its own, without
 * pino: `fleet status` and @fleet/redis use it without loading the logger
 * (`@fleet/logging/redact-url`; BENCHMARKS.md, "CLI start").
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
