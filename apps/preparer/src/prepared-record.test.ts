import { LocalStore } from '@fleet/storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPrepared, recordKeyFor, writePreparedRecord } from './prepared-record';

describe('prepared records', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prepared-record-'));
    store = new LocalStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says a COG is prepared only for the version its record names', async () => {
    await store.put('x/a.tif', Buffer.from('cog'));
    await writePreparedRecord(store, 'x/a.tif', { source: '/src/x/a.jp2', sourceVersion: 'v1', preparedAt: '2026-01-01T00:00:00Z' });
    expect(await isPrepared(store, 'x/a.tif', 'v1')).toBe(true);
    expect(await isPrepared(store, 'x/a.tif', 'v2')).toBe(false);
  });

  it('is not prepared without a record, without the COG, or with an unreadable record', async () => {
    expect(await isPrepared(store, 'a.tif', 'v1')).toBe(false);
    await writePreparedRecord(store, 'a.tif', { source: 's', sourceVersion: 'v1', preparedAt: 't' });
    expect(await isPrepared(store, 'a.tif', 'v1')).toBe(false); // record, but no COG
    await store.put('a.tif', Buffer.from('cog'));
    await store.put(recordKeyFor('a.tif'), Buffer.from('{not json'));
    expect(await isPrepared(store, 'a.tif', 'v1')).toBe(false);
  });
});
