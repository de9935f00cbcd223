import { z } from 'zod';
import type { BlockResult } from './run-state';

const blockResultSchema = z.object({
  blockId: z.string().min(1),
  key: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  classPixels: z.record(z.string(), z.number()),
  failedWindows: z.number().int().nonnegative(),
  mergeMs: z.number().nonnegative(),
});

/** The bytes of a block record in storage (`outputKeys.blockRecord`). */
export function blockRecordBody(result: BlockResult): Buffer {
  return Buffer.from(`${JSON.stringify(result)}\n`);
}

/**
 * A block record read back from storage; throws naming `key` when it is not one (a record is
 * written whole by one put, so a malformed one is not a half-written one: someone else's file).
 */
export function parseBlockRecord(key: string, body: Uint8Array): BlockResult {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    throw new Error(`block record ${key} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = blockResultSchema.safeParse(json);
  if (!parsed.success) throw new Error(`block record ${key} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Whether a block record found only in storage proves the block is merged for good. A record
 * with failed windows does not: `fleet retry` (or a run rebuilt after Redis was wiped, which
 * runs those windows again) merges that block anew, and must not find the old result.
 */
export function isFinalBlockRecord(result: BlockResult): boolean {
  return result.failedWindows === 0;
}
