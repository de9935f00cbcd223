import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputKeys, type BlockResult } from '@fleet/jobs';
import { LocalStore } from '@fleet/storage';
import { readFinalBlockRecord, writeBlockRecord } from './stored-block-record';

describe('block records in storage', () => {
  let root: string;
  let store: LocalStore;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'block-record-'));
    store = new LocalStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const result = (blockId: string, failedWindows = 0): BlockResult => ({ blockId, key: `blocks/${blockId}.tif`, bytes: 123, classPixels: { '1': 7, '5': 2 }, failedWindows, mergeMs: 40 });

  it('round-trips a merged block under _work/<run>/blocks/<id>.json', async () => {
    await writeBlockRecord(store, 'run-1', result('D-0-0'));
    expect(await store.list('_work/run-1/blocks/')).toEqual([outputKeys.blockRecord('run-1', 'D-0-0')]);
    expect(outputKeys.blockRecord('run-1', 'D-0-0')).toBe('_work/run-1/blocks/D-0-0.json');
    expect(await readFinalBlockRecord(store, 'run-1', 'D-0-0')).toEqual(result('D-0-0'));
  });

  it('none, another run\'s, or one with failed windows (merged again by fleet retry) is not a record', async () => {
    expect(await readFinalBlockRecord(store, 'run-1', 'D-0-0')).toBeUndefined();
    await writeBlockRecord(store, 'run-2', result('D-0-0'));
    expect(await readFinalBlockRecord(store, 'run-1', 'D-0-0')).toBeUndefined();
    await writeBlockRecord(store, 'run-1', result('D-0-0', 2));
    expect(await readFinalBlockRecord(store, 'run-1', 'D-0-0')).toBeUndefined();
  });

  it('a malformed record throws naming its key (the merge job fails rather than trusting it)', async () => {
    await store.put(outputKeys.blockRecord('run-1', 'D-0-0'), Buffer.from('not json'));
    await expect(readFinalBlockRecord(store, 'run-1', 'D-0-0')).rejects.toThrow('block record _work/run-1/blocks/D-0-0.json is not JSON');
  });
});
