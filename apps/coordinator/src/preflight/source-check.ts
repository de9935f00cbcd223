import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Every local source path exists (file or folder): a typo is said as such
 * (`--rgb /nope: no such file or folder`) rather than as "no GeoTIFF found". s3:// sources are
 * checked by the scan that follows (an empty prefix is "no GeoTIFF found in s3://...").
 */
export async function missingSources(sources: Partial<Record<string, string>>): Promise<string[]> {
  const problems: string[] = [];
  for (const [role, location] of Object.entries(sources)) {
    if (location === undefined || /^[a-z0-9]+:\/\//i.test(location)) continue;
    try {
      await stat(resolve(location));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') problems.push(`--${role} ${location}: no such file or folder`);
      else problems.push(`--${role} ${location}: cannot be read: ${(err as Error).message}`);
    }
  }
  return problems;
}
