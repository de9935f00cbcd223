import { runIdSchema } from '@fleet/jobs';
import { parseS3Url } from '@fleet/storage';

/**
 * Pure checks of what the request names, before any file, folder, key or connection exists:
 * an explicit run id ends up in folder names and object keys, and an output prefix in every
 * key a worker writes. Returns the problems, one line each (empty when all is well).
 */
export function requestProblems(request: { runId?: string | undefined; output: string; model: string }): string[] {
  const problems: string[] = [];
  if (request.runId !== undefined) {
    const parsed = runIdSchema.safeParse(request.runId);
    if (!parsed.success) problems.push(`--run-id ${JSON.stringify(request.runId)} is not a valid run id: 1-64 letters, digits, _ or -`);
  }
  const output = request.output;
  if (output.trim() === '') problems.push('--out is empty: give a folder or s3://bucket/prefix');
  else if (output.startsWith('s3://')) {
    try {
      parseS3Url(output);
    } catch (err) {
      problems.push(`--out ${output}: ${(err as Error).message.replace(/^invalid prefix in "[^"]*": /, 'invalid prefix: ')}; use s3://bucket/prefix with plain path segments`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(output) && !output.startsWith('file://')) {
    problems.push(`--out ${output}: unsupported location: use a folder or s3://bucket/prefix`);
  }
  if (/^[a-z0-9]+:\/\//i.test(request.model)) {
    problems.push(`--model must be a local folder, mounted at the same path on every worker (got ${request.model})`);
  }
  return problems;
}
