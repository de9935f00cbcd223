/**
 * A check that failed before anything was enqueued: one line naming the thing and the fix.
 * `exitCode` 2 for usage and input problems, 1 for what may pass on retry (Redis unreachable).
 */
export class PreflightError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 2) {
    super(message.split('\n').join('; '));
    this.name = 'PreflightError';
  }
}
