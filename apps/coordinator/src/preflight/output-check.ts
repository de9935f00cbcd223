import { LocalStore, S3Store, s3OptionsFromEnv, type ObjectStore } from '@fleet/storage';
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PreflightError } from './preflight-error';

/** Longest the write probe may take, whatever the store's own retries. */
export const OUTPUT_PROBE_TIMEOUT_MS = 30_000;

/**
 * Writes and removes one small object at the top of the output, so a read-only folder, a
 * path under a file, /proc/x, missing or wrong S3 credentials or a bad endpoint fail here with
 * the store's reason, before anything is enqueued (workers would otherwise fail every window,
 * or retry for ever). S3 retries are cut short for the probe; credentials never appear in the
 * message (the AWS SDK's messages do not hold them, and their values are blanked regardless).
 */
export async function checkOutputWritable(output: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let store: ObjectStore & { close(): Promise<void> };
  if (output.startsWith('s3://')) {
    let options;
    try {
      options = s3OptionsFromEnv(env);
    } catch (err) {
      throw new PreflightError((err as Error).message);
    }
    store = new S3Store(output, {
      ...options,
      maxAttempts: Math.min(options.maxAttempts ?? 2, 2),
      connectionTimeoutMs: Math.min(options.connectionTimeoutMs ?? 5_000, 5_000),
      socketTimeoutMs: Math.min(options.socketTimeoutMs ?? 10_000, 10_000),
    });
  } else {
    const folder = output.startsWith('file://') ? fileURLToPath(output) : resolve(output);
    try {
      await makeFolders(folder);
    } catch (err) {
      throw new PreflightError(`--out ${output} is not writable: ${reason(err, env)}; give a folder this user can write`);
    }
    store = new LocalStore(folder);
  }
  // at the top, not under _work/ (the run's own intermediates), and removed at once
  const key = `.fleet-preflight-${process.pid}-${randomBytes(4).toString('hex')}.probe`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await store.put(key, Buffer.from('flair-fleet write probe\n'));
        await store.delete(key);
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${OUTPUT_PROBE_TIMEOUT_MS / 1000} s`)), OUTPUT_PROBE_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    const hint = output.startsWith('s3://')
      ? 'check the bucket, S3_ENDPOINT and the AWS credentials'
      : 'give a folder this user can write';
    throw new PreflightError(`--out ${output} is not writable: ${reason(err, env)}; ${hint}`);
  } finally {
    clearTimeout(timer);
    await store.close();
  }
}

/** The error's name (S3: InvalidAccessKeyId, NoSuchBucket...) and first line, credentials blanked. */
function reason(err: unknown, env: NodeJS.ProcessEnv): string {
  const e = err as { name?: string; message?: string; code?: string };
  let text = (e.message ?? String(err)).split('\n')[0]?.replace(/\.$/, '') ?? '';
  if (e.name && e.name !== 'Error' && !text.startsWith(e.name)) text = `${e.name}: ${text}`;
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    // the SDK reads credentials from process.env whatever `env` says: blank both
    for (const value of [env[name], process.env[name]]) if (value && value.length >= 4) text = text.split(value).join('[redacted]');
  }
  return text;
}

/**
 * Creates `path` and its missing parents one level at a time. Not mkdir's `recursive`: under
 * /proc it never returns (mkdir says ENOENT, node then creates the parent, which exists, and
 * tries again for ever), which is how a worker used to spin on `--out /proc/x`.
 */
async function makeFolders(path: string): Promise<void> {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    let found;
    try {
      found = await stat(at);
    } catch (err) {
      // ENOTDIR: a parent is a file; keep going up to name it
      const code = (err as { code?: string }).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) throw err;
      missing.unshift(at);
      at = dirname(at);
      continue;
    }
    if (!found.isDirectory()) throw Object.assign(new Error(`ENOTDIR: ${at} is a file, not a folder`), { code: 'ENOTDIR' });
    break;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
}
