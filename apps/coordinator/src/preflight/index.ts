import type { RunRequest } from '../plan-run';
import { checkModel } from './model-check';
import { checkOutputWritable } from './output-check';
import { parsePreflightEnv } from './preflight-env';
import { PreflightError } from './preflight-error';
import { checkRedis } from './redis-check';
import { requestProblems } from './request-check';
import { missingSources } from './source-check';

export { PreflightError } from './preflight-error';
export { requestProblems } from './request-check';
export { missingSources } from './source-check';
export { checkModel } from './model-check';
export { checkOutputWritable } from './output-check';
export { checkRedis } from './redis-check';
export { parsePreflightEnv, preflightEnvShape, type PreflightEnv } from './preflight-env';

export interface PreflightOptions {
  /** Environment (FLEET_REDIS_CONNECT_TIMEOUT_MS, FLEET_PROVIDER, FLEET_PROVIDER_FALLBACK, S3_*). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The Redis the run will use; unset when the CLI starts a private one (nothing to check). */
  redisUrl?: string | undefined;
  /** Receives non-fatal findings (a provider missing on this machine when FLEET_PROVIDER_FALLBACK=cpu). */
  warn?: (msg: string) => void;
}

/**
 * Everything `fleet run` and `fleet enqueue` check before any file, folder, key or job exists,
 * cheapest first: the request's names (run id, output prefix), the sources exist, Redis
 * answers, the output takes a write, the model loads. Throws a PreflightError, one line naming
 * the thing and the fix; the scan of the sources' headers (planRun) comes after.
 */
export async function preflightRun(request: RunRequest, options: PreflightOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const warn = options.warn ?? (() => {});
  const problems = requestProblems(request);
  if (problems.length > 0) throw new PreflightError(problems[0]!);
  const config = parsePreflightEnv(env);
  const missing = await missingSources(request.sources);
  if (missing.length > 0) throw new PreflightError(missing[0]!);
  if (options.redisUrl) await checkRedis(options.redisUrl, config.FLEET_REDIS_CONNECT_TIMEOUT_MS);
  await checkOutputWritable(request.output, env);
  await checkModel(request.model, config.FLEET_PROVIDER, warn, config.FLEET_PROVIDER_FALLBACK);
}
