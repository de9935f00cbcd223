import { FleetQueues, QUEUES } from '@fleet/jobs';
import { createRedisConnection } from '@fleet/redis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testRedisUrl, uniquePrefix } from '../../../test/support/redis';
import { createBoardHandler, mountBoard, normaliseBasePath, type BoardHandler } from './board-handler';

const TOKEN = 'board-handler-test-token';

describe('board mounted under a base path on a host server', () => {
  const prefix = uniquePrefix('board');
  const redis = createRedisConnection(testRedisUrl());
  let board: BoardHandler;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const queues = new FleetQueues(redis, prefix);
    await queues.addGroups('run-b', [{ row: 0, col: 0 }, { row: 0, col: 1 }]);
    await queues.add('merge-block', { runId: 'run-b', blockId: 'D-0-0' }, 'merge-run-b-D-0-0');
    await queues.close();
    board = createBoardHandler({ connection: redis, prefix, basePath: '/ops/queues/', token: TOKEN });
    // the host answers its own paths: the board says false for them and writes nothing
    server = createServer((req, res) => {
      if (!board.handle(req, res)) res.writeHead(200, { 'Content-Type': 'text/plain' }).end('host page');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await board.close();
    redis.disconnect();
  });

  it('normalises the base path', () => {
    expect(['/', '', 'board', '/board/', '//a//b/'].map(normaliseBasePath)).toEqual(['/', '/', '/board', '/board', '/a/b']);
  });

  it('leaves other paths to the host and asks for the token under its own', async () => {
    expect(board.basePath).toBe('/ops/queues');
    expect(await (await fetch(`${base}/`)).text()).toBe('host page');
    expect(await (await fetch(`${base}/ops/queues-other`)).text()).toBe('host page');
    const refused = await fetch(`${base}/ops/queues/api/queues`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="fleet board", charset="UTF-8"');
    expect((await fetch(`${base}/ops/queues`, { headers: { Authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
  });

  it('lists every fleet queue with its jobs, read-only, to a caller with the token', async () => {
    const res = await fetch(`${base}/ops/queues/api/queues?activeQueue=&page=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean; counts: Record<string, number> }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUES).sort());
    const byName = new Map(body.queues.map((q) => [q.name, q]));
    expect(byName.get(QUEUES.infer)?.counts.waiting).toBe(2);
    expect(byName.get(QUEUES.merge)?.counts.waiting).toBe(1);
    expect(body.queues.every((q) => q.readOnlyMode && !q.allowRetries)).toBe(true);
    // the page itself, with the base path the SPA resolves its assets against
    const page = await fetch(`${base}/ops/queues/`, { headers: { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<base href="/ops/queues/" />');
  });

  it('refuses actions in read-only mode', async () => {
    for (const action of [`${QUEUES.infer}/empty`, `${QUEUES.infer}/clean/waiting`]) {
      const res = await fetch(`${base}/ops/queues/api/queues/${action}`, { method: 'PUT', headers: { Authorization: `Bearer ${TOKEN}` } });
      expect([action, res.status >= 400]).toEqual([action, true]);
    }
    const queues = new FleetQueues(redis, prefix);
    expect((await queues.infer.getJobCounts('wait')).wait).toBe(2);
    await queues.close();
  });
});

describe('mountBoard on a server that already answers requests', () => {
  it('takes the base path and leaves the rest to the host listener', async () => {
    const redis = createRedisConnection(testRedisUrl());
    const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('console'));
    const board = mountBoard(server, { connection: redis, prefix: uniquePrefix('board-mount'), basePath: '/board', token: TOKEN });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/runs`)).text()).toBe('console');
      expect((await fetch(`${base}/board/`)).status).toBe(401);
      const res = await fetch(`${base}/board/api/queues?activeQueue=&page=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(((await res.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUES).sort());
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await board.close();
      redis.disconnect();
    }
  });
});

describe('--allow-actions', () => {
  it('lets the board retry and clean: not read-only, retries allowed, a clean empties the waiting jobs', async () => {
    const redis = createRedisConnection(testRedisUrl());
    const prefix = uniquePrefix('board-actions');
    const queues = new FleetQueues(redis, prefix);
    await queues.addGroups('run-c', [{ row: 0, col: 0 }]);
    const server = createServer((_req, res) => res.writeHead(404).end());
    const board = mountBoard(server, { connection: redis, prefix, token: TOKEN, allowActions: true });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = { Authorization: `Bearer ${TOKEN}` };
    try {
      const listed = (await (await fetch(`${base}/api/queues?activeQueue=&page=1`, { headers: auth })).json()) as { queues: { readOnlyMode: boolean; allowRetries: boolean }[] };
      expect(listed.queues.every((q) => !q.readOnlyMode && q.allowRetries)).toBe(true);
      const cleaned = await fetch(`${base}/api/queues/${QUEUES.infer}/empty`, { method: 'PUT', headers: auth });
      expect(cleaned.status).toBe(200);
      expect((await queues.infer.getJobCounts('wait')).wait).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await board.close();
      await queues.close();
      redis.disconnect();
    }
  });
});
