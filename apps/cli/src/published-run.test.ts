import { openStore } from '@fleet/storage';
import type { RunReport } from '@fleet/merger';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUnchanged, publishedMapIntact, readPublishedReport, stillPublishedNote, unchangedMessage } from './published-run';

describe('the published run', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'published-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const report = { runId: 'run-abc', complete: true, finishedAt: '2026-11-30T02:00:00.000Z' } as RunReport;

  const current = { runId: 'run-abc', publishedAt: '2026-11-30T02:00:01.000Z', manifest: 'runs/run-abc/manifest.json', report: 'runs/run-abc/run.json', previous: null, history: ['run-abc'] };

  it('is the report current.json names; none, unreadable JSON or a report without its fields is no published run', async () => {
    const store = openStore(root);
    mkdirSync(join(root, 'runs', 'run-abc'), { recursive: true });
    expect(await readPublishedReport(store)).toBeUndefined();
    writeFileSync(join(root, 'runs', 'run-abc', 'run.json'), JSON.stringify(report));
    // a run.json that current.json does not name is not published (a run finalising, or one that failed)
    expect(await readPublishedReport(store)).toBeUndefined();
    writeFileSync(join(root, 'current.json'), '{ half');
    expect(await readPublishedReport(store)).toBeUndefined();
    writeFileSync(join(root, 'current.json'), JSON.stringify(current));
    expect(await readPublishedReport(store)).toEqual(report);
    writeFileSync(join(root, 'runs', 'run-abc', 'run.json'), '{"runId": 3}');
    expect(await readPublishedReport(store)).toBeUndefined();
  });

  it('is unchanged only for the same derived run id, complete', () => {
    expect(isUnchanged(report, 'run-abc', false)).toBe(true);
    expect(isUnchanged(report, 'run-def', false)).toBe(false);
    expect(isUnchanged(report, 'run-abc', true)).toBe(false);
    expect(isUnchanged({ ...report, complete: false }, 'run-abc', false)).toBe(false);
    expect(isUnchanged(undefined, 'run-abc', false)).toBe(false);
  });

  it('is intact while current.json, mosaic.vrt and every block run.json lists are there', async () => {
    const store = openStore(root);
    const withBlocks = { ...report, blocks: [{ key: 'blocks/a.tif' }, { key: 'blocks/b.tif' }] } as RunReport;
    expect(await publishedMapIntact(store, withBlocks)).toBe(false);
    await store.put('current.json', Buffer.from(JSON.stringify(current)));
    await store.put('mosaic.vrt', Buffer.from('<VRTDataset/>'));
    await store.put('blocks/a.tif', Buffer.from('a'));
    expect(await publishedMapIntact(store, withBlocks)).toBe(false);
    await store.put('blocks/b.tif', Buffer.from('b'));
    expect(await publishedMapIntact(store, withBlocks)).toBe(true);
  });

  it('a failed night says which map stays published', () => {
    expect(stillPublishedNote(report)).toBe("the published map is still run run-abc's (published 2026-11-30T02:00:00.000Z): current.json and mosaic.vrt are unchanged");
    expect(stillPublishedNote(undefined)).toBe('no map is published in this output yet');
  });

  it('says which run and where the map is', () => {
    expect(unchangedMessage({ runId: 'run-abc', published: report }, 's3://maps/92/')).toBe(
      'nothing changed since run run-abc (published 2026-11-30T02:00:00.000Z): no window inferred, nothing republished; the map is s3://maps/92/mosaic.vrt',
    );
  });
});
