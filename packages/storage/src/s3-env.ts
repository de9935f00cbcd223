import type { S3StoreOptions } from './s3-store';

/**
 * S3 connection settings from the environment: S3_ENDPOINT, S3_REGION (else AWS_REGION) and
 * S3_FORCE_PATH_STYLE ("true"/"false", "1"/"0"); retries and timeouts from S3_MAX_ATTEMPTS,
 * S3_RETRY_MODE (standard/adaptive), S3_CONNECTION_TIMEOUT_MS and S3_SOCKET_TIMEOUT_MS. Unset or empty variables are left out, so
 * S3Store's defaults apply. Credentials are not read here: the AWS SDK takes them from its own
 * chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles...).
 * A malformed value throws an error naming the variable.
 */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv = process.env): S3StoreOptions {
  const options: S3StoreOptions = {};
  const endpoint = nonEmpty(env.S3_ENDPOINT);
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error(`S3_ENDPOINT is not a URL: ${JSON.stringify(endpoint)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`S3_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
    }
    options.endpoint = endpoint;
  }
  const region = nonEmpty(env.S3_REGION) ?? nonEmpty(env.AWS_REGION);
  if (region !== undefined) options.region = region;
  const pathStyle = nonEmpty(env.S3_FORCE_PATH_STYLE)?.toLowerCase();
  if (pathStyle !== undefined) {
    if (pathStyle === 'true' || pathStyle === '1') options.forcePathStyle = true;
    else if (pathStyle === 'false' || pathStyle === '0') options.forcePathStyle = false;
    else throw new Error(`S3_FORCE_PATH_STYLE must be true, false, 1 or 0, got ${JSON.stringify(env.S3_FORCE_PATH_STYLE)}`);
  }
  const attempts = positiveIntegerVar(env, 'S3_MAX_ATTEMPTS');
  if (attempts !== undefined) options.maxAttempts = attempts;
  const mode = nonEmpty(env.S3_RETRY_MODE)?.toLowerCase();
  if (mode !== undefined) {
    if (mode !== 'standard' && mode !== 'adaptive') throw new Error(`S3_RETRY_MODE must be standard or adaptive, got ${JSON.stringify(env.S3_RETRY_MODE)}`);
    options.retryMode = mode;
  }
  const connectMs = positiveIntegerVar(env, 'S3_CONNECTION_TIMEOUT_MS');
  if (connectMs !== undefined) options.connectionTimeoutMs = connectMs;
  const socketMs = positiveIntegerVar(env, 'S3_SOCKET_TIMEOUT_MS');
  if (socketMs !== undefined) options.socketTimeoutMs = socketMs;
  return options;
}

/** Retry and timeout settings are whole positive numbers; anything else names the variable. */
function positiveIntegerVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number >= 1, got ${JSON.stringify(env[name])}`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
