import { createHash } from 'node:crypto';

/**
 * A run id derived from what defines the run (inputs, model, output, geometry), so that
 * enqueueing the same run twice finds the same id and adds nothing.
 */
export function deriveRunId(identity: unknown): string {
  return `run-${createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12)}`;
}
