import { planRun, type PlannedRun, type RunRequest } from '@fleet/coordinator';
import { CliError } from './cli-error';

/**
 * planRun for a command line: what it rejects (conflicting sources, a model folder without
 * model.json, no GeoTIFF, a misaligned or truncated dalle) is an input problem, exit code 2
 * like a usage error. Errors that may pass on retry (S3 service or network) keep exit code 1.
 */
export async function planForCli(request: RunRequest): Promise<PlannedRun> {
  try {
    return await planRun(request);
  } catch (err) {
    if (mayBeTransient(err)) throw err;
    throw new CliError(err instanceof Error ? err.message : String(err), 2);
  }
}

const TRANSIENT_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH)$/;

export function mayBeTransient(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  // AWS SDK errors carry $metadata; Node socket errors a code such as ECONNREFUSED
  if ('$metadata' in err) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && TRANSIENT_CODES.test(code);
}
