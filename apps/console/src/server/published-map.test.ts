import { LocalStore } from '@fleet/storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOutputReport, readOutputReports, readPublishedRun } from './published-map';

const report = (runId: string, blocks: string[]) => ({ runId, createdAt: `2026-11-0${runId.slice(-1)}T00:00:00Z`, classes: [{ id: 1, name: 'building', color: '#db0e9a' }], blocks: blocks.map((id) => ({ id, key: `blocks/${id}.tif` })) });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('published map layouts', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'published-map-'));
    store = new LocalStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has nothing before the first run', async () => {
    expect(await readPublishedRun(store)).toBeUndefined();
    expect(await readOutputReports(store)).toEqual([]);
  });

  it("reads today's flat layout: run.json, areas.json and blocks/ at the top", async () => {
    await store.put('run.json', json(report('run1', ['b-0', 'b-1'])));
    await store.put('areas.json', json({ total: [] }));
    expect(await readPublishedRun(store)).toMatchObject({
      runId: 'run1',
      layout: 'flat',
      reportKey: 'run.json',
      areasKey: 'areas.json',
      blocks: [{ id: 'b-0', key: 'blocks/b-0.tif' }, { id: 'b-1', key: 'blocks/b-1.tif' }],
    });
    expect((await readPublishedRun(store))?.changes).toBeUndefined();
    expect((await readOutputReport(store, 'run1'))?.runId).toBe('run1');
    expect(await readOutputReport(store, 'other')).toBeUndefined();
  });

  it('follows current.json to the run it publishes, its manifest (blocks of older runs included) and its changes', async () => {
    await store.put('runs/run1/run.json', json(report('run1', ['b-0'])));
    await store.put('runs/run2/run.json', json(report('run2', ['b-0', 'b-1'])));
    await store.put('runs/run2/manifest.json', json({ runId: 'run2', blocks: { 'b-1': 'runs/run2/blocks/b-1.tif', 'b-0': 'runs/run1/blocks/b-0.tif' } }));
    await store.put('runs/run2/areas.json', json({ total: [] }));
    await store.put('runs/run2/changes.json', json({ changed: 3 }));
    await store.put('runs/run2/changes.png', Buffer.from([0x89]));
    await store.put('runs/run2/changes-mask.png', Buffer.from([0x89]));
    await store.put('current.json', json({ runId: 'run2', publishedAt: '2026-11-02T03:00:00Z', manifest: 'runs/run2/manifest.json', previous: 'run1' }));
    expect(await readPublishedRun(store)).toEqual(expect.objectContaining({
      runId: 'run2',
      layout: 'current',
      publishedAt: '2026-11-02T03:00:00Z',
      reportKey: 'runs/run2/run.json',
      areasKey: 'runs/run2/areas.json',
      blocks: [{ id: 'b-0', key: 'runs/run1/blocks/b-0.tif' }, { id: 'b-1', key: 'runs/run2/blocks/b-1.tif' }],
      changes: { jsonKey: 'runs/run2/changes.json', pngKey: 'runs/run2/changes-mask.png' },
    }));
    expect((await readOutputReports(store)).map((r) => r.runId).sort()).toEqual(['run1', 'run2']);
    expect((await readOutputReport(store, 'run1'))?.runId).toBe('run1');
  });

  it('names the file when current.json points at nothing or is not JSON', async () => {
    await store.put('current.json', json({ runId: 'run9', manifest: 'runs/run9/manifest.json' }));
    await expect(readPublishedRun(store)).rejects.toThrow(/runs\/run9\/manifest\.json: named by current\.json but missing/);
    await store.put('current.json', Buffer.from('{oops'));
    await expect(readPublishedRun(store)).rejects.toThrow(/current\.json: not valid JSON/);
    await store.put('current.json', json({ runId: 5 }));
    await expect(readPublishedRun(store)).rejects.toThrow(/current\.json: expected \{ runId, manifest \} strings/);
  });
});
