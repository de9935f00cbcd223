import { geometryOf, RunState } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { LocalStore } from '@fleet/storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRedisUrl, uniquePrefix } from '../../../../test/support/redis';
import { syntheticRunSpec } from '../../../../test/support/run-spec-fixture';
import { RunReader } from './run-reader';

// 1000 x 600 px, patch 512, overlap 128: 6 windows, each reaching across x = 500 (both blocks)
const spec = syntheticRunSpec({
  runId: 'live-run',
  width: 1000,
  height: 600,
  createdAt: '2026-11-30T01:00:00Z',
  blocks: [{ id: 'left', x: 0, y: 0, width: 500, height: 600 }, { id: 'right', x: 500, y: 0, width: 500, height: 600 }],
});
const windowId = (i: number) => `r${Math.floor(i / 3)}-c${i % 3}`;

describe('RunReader on a real Redis and a real output folder', () => {
  const redis = createRedisConnection(testRedisUrl());
  let dir: string;
  afterAll(() => redis.quit());
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'run-reader-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("follows a run's blocks from waiting to failed and merged, with its failures and the files they name", async () => {
    const prefix = uniquePrefix('console');
    const state = new RunState(redis, prefix, spec.runId);
    const geometry = geometryOf(spec);
    await state.init(spec, new Map(spec.blocks.map((b) => [b.id, [...geometry.windowsOfBlock(b)].length])));
    const reader = new RunReader(redis, prefix, undefined);

    let run = (await reader.get('live-run'))!;
    expect(run.blocks.map((b) => [b.id, b.state, b.windowsDone, b.windows, b.x, b.width])).toEqual([['left', 'waiting', 0, 6, 0, 500], ['right', 'waiting', 0, 6, 500, 500]]);

    await state.completeWindow(0, windowId(0), 'done', ['left', 'right']);
    await state.completeWindow(1, windowId(1), 'failed', ['left', 'right'], {}, 'cannot read /data/in/D-1-0.tif: truncated tile');
    run = (await reader.get('live-run'))!;
    expect(run.blocks.map((b) => [b.state, b.windowsDone])).toEqual([['inferring', 2], ['inferring', 2]]);
    expect(run.windows).toMatchObject({ total: 6, done: 1, failed: 1, finished: 2 });
    expect(run.failures).toEqual([{ window: 'r0-c1', message: 'cannot read /data/in/D-1-0.tif: truncated tile', file: '/data/in/D-1-0.tif' }]);

    for (const i of [2, 3, 4, 5]) await state.completeWindow(i, windowId(i), 'done', ['left', 'right']);
    await state.completeBlock({ blockId: 'left', key: 'blocks/left.tif', bytes: 1, classPixels: {}, failedWindows: 1, mergeMs: 1 });
    run = (await reader.get('live-run'))!;
    expect(run.blocks.map((b) => [b.id, b.state])).toEqual([['left', 'merged'], ['right', 'failed']]);
    // two readings 0 ms apart or more: the rate needs time between them, never a division by zero
    expect(run.rate === undefined || Number.isFinite(run.rate)).toBe(true);
  });

  it('lists runs of Redis and of the output, and reads a finished run from its run.json', async () => {
    const prefix = uniquePrefix('console');
    const geometry = geometryOf(spec);
    await new RunState(redis, prefix, spec.runId).init(spec, new Map(spec.blocks.map((b) => [b.id, [...geometry.windowsOfBlock(b)].length])));
    const store = new LocalStore(dir);
    await store.put('run.json', Buffer.from(JSON.stringify({
      runId: 'last-night', createdAt: '2026-11-29T01:00:00Z', windows: { total: 10, done: 9, skipped: 0, failed: 1, failures: [{ window: 'r0-c0', error: 's3://ortho/92/D-0-0.tif: 403' }] },
      blocks: [{ id: 'a', key: 'blocks/a.tif' }],
    })));
    const reader = new RunReader(redis, prefix, store);
    expect((await reader.list()).runs.map((r) => [r.runId, r.status, `${r.finished}/${r.windows}`, r.known.join('+')])).toEqual([
      ['live-run', 'running', '0/6', 'redis'],
      ['last-night', 'done', '10/10', 'output'],
    ]);
    const old = (await reader.get('last-night'))!;
    expect(old).toMatchObject({ source: 'output', status: 'done', blocks: [], failuresTotal: 1 });
    expect(old.failures).toEqual([{ window: 'r0-c0', message: 's3://ortho/92/D-0-0.tif: 403', file: 's3://ortho/92/D-0-0.tif' }]);
    expect(await reader.get('no-such-run')).toBeUndefined();
    expect(await reader.get('../run')).toBeUndefined();
  });

  it("still lists the output's runs when Redis does not answer, and says so", async () => {
    const store = new LocalStore(dir);
    await store.put('run.json', Buffer.from(JSON.stringify({ runId: 'last-night', createdAt: '2026-11-29T01:00:00Z', windows: { total: 1, done: 1, skipped: 0, failed: 0 } })));
    // port 1: nothing listens there; no reconnection, so the command fails at once
    const dead = createRedisConnection('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => {});
    try {
      const { runs, redisError } = await new RunReader(dead, 'fleet', store).list();
      expect(runs.map((r) => r.runId)).toEqual(['last-night']);
      expect(redisError).toMatch(/^Redis did not answer: /);
    } finally {
      dead.disconnect();
    }
  });
});
