import { blockRecordBody, isFinalBlockRecord, outputKeys, parseBlockRecord, type BlockResult } from '@fleet/jobs';
import { ObjectNotFoundError, type ObjectStore } from '@fleet/storage';

/**
 * Writes a merged block's record to storage (`_work/<run>/blocks/<id>.json`): after its
 * GeoTIFF is final, before the block is recorded in Redis and before any tile is deleted, so
 * that storage alone proves the block merged when Redis loses the record.
 */
export async function writeBlockRecord(store: ObjectStore, runId: string, result: BlockResult): Promise<void> {
  await store.put(outputKeys.blockRecord(runId, result.blockId), blockRecordBody(result));
}

/**
 * A block's final record in storage (merged with no failed window), or undefined: none, or one
 * with failed windows, which `fleet retry` merges again and so must not be trusted alone.
 */
export async function readFinalBlockRecord(store: ObjectStore, runId: string, blockId: string): Promise<BlockResult | undefined> {
  const key = outputKeys.blockRecord(runId, blockId);
  let body: Buffer;
  try {
    body = await store.get(key);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  const record = parseBlockRecord(key, body);
  return record.blockId === blockId && isFinalBlockRecord(record) ? record : undefined;
}
