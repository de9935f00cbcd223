import { ObjectNotFoundError, type ObjectStore } from '@fleet/storage';

/**
 * A small JSON object beside each COG naming the source version it was made from. The COG
 * carries the same value in its metadata (FLEET_SOURCE_VERSION, for people and GDAL), but
 * reading that back needs a TIFF parse per dalle; this is one small GET. It is written after
 * the COG, so a crash between the two only means the dalle is converted again.
 */
export interface PreparedRecord {
  source: string;
  sourceVersion: string;
  preparedAt: string;
}

export function recordKeyFor(outputKey: string): string {
  return `${outputKey}.fleet-source.json`;
}

export async function writePreparedRecord(store: ObjectStore, outputKey: string, record: PreparedRecord): Promise<void> {
  await store.put(recordKeyFor(outputKey), Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
}

/** True when the COG exists and its record names this source version. */
export async function isPrepared(store: ObjectStore, outputKey: string, sourceVersion: string): Promise<boolean> {
  let body: Buffer;
  try {
    body = await store.get(recordKeyFor(outputKey));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return false;
    throw err;
  }
  let record: Partial<PreparedRecord>;
  try {
    record = JSON.parse(body.toString('utf8')) as Partial<PreparedRecord>;
  } catch {
    return false; // unreadable record: convert again, which rewrites it
  }
  if (record.sourceVersion !== sourceVersion) return false;
  return (await store.head(outputKey)) !== undefined;
}
