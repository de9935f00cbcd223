import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startS3Server, type S3TestServer } from '../../../test/support/s3-server';
import { LocalStore } from './local-store';
import { LEASE_KEY, LeaseHeldError, OutputLease, readLease } from './output-lease';
import { s3OptionsFromEnv } from './s3-env';
import { S3Store } from './s3-store';

const BUCKET = 'lease-test';
let server: S3TestServer;
let root: string;
const savedEnv: Record<string, string | undefined> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * readLease while the lease renews itself every few ms: s3rver aborts a GET that races a PUT of
 * the same key ("aborted", seen under load in a full jest run), which S3 does not do; the lease
 * itself treats a failed read as a failed renewal and tries again at its next tick. So does this.
 */
async function readBesideRenewals(store: LocalStore | S3Store): ReturnType<typeof readLease> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readLease(store);
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(20);
    }
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lease-test-'));
  server = await startS3Server();
  await server.bucket(BUCKET);
  for (const [name, value] of Object.entries(server.env)) {
    savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
});

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server?.stop();
  await rm(root, { recursive: true, force: true });
});

const kinds: Array<[string, () => LocalStore | S3Store]> = [
  ['a local folder', () => new LocalStore(join(root, randomBytes(4).toString('hex')))],
  ['S3 (s3rver)', () => new S3Store(`s3://${BUCKET}/${randomBytes(4).toString('hex')}`, s3OptionsFromEnv(server.env))],
];

describe.each(kinds)('OutputLease on %s', (_name, open) => {
  let store: LocalStore | S3Store;
  beforeEach(() => {
    store = open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('putIfAbsent writes once and refuses an existing key', async () => {
    // s3rver ignores If-None-Match on PUT: there the second call overwrites (see S3Store.putIfAbsent)
    expect(await store.putIfAbsent('k/one', Buffer.from('a'))).toBe(true);
    const second = await store.putIfAbsent('k/one', Buffer.from('b'));
    if (store instanceof LocalStore) {
      expect(second).toBe(false);
      expect((await store.get('k/one')).toString()).toBe('a');
      expect(await store.list('k/')).toEqual(['k/one']); // no temp file left
    }
  });

  it('refuses a second holder while the first is live, naming it', async () => {
    const first = await OutputLease.acquire(store, { runId: 'run-a', settleMs: 10 });
    const err = await OutputLease.acquire(store, { runId: 'run-b', settleMs: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as LeaseHeldError).holder).toMatchObject({ runId: 'run-a', pid: process.pid, token: first.current.token });
    expect((err as Error).message).toContain(`is being written by run run-a (host `);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    await first.release();
  });

  it('is free again after a release', async () => {
    const first = await OutputLease.acquire(store, { runId: 'run-a', settleMs: 10 });
    await first.release();
    expect(await readLease(store)).toBeUndefined();
    const second = await OutputLease.acquire(store, { runId: 'run-b', settleMs: 10 });
    expect((await readLease(store))?.runId).toBe('run-b');
    await second.release();
  });

  it('is taken over once expired, and the old holder learns it lost the lease', async () => {
    const lost: string[] = [];
    const first = await OutputLease.acquire(store, { runId: 'run-a', ttlMs: 300, renewMs: 100_000, settleMs: 10, onLost: (why) => lost.push(why) });
    await sleep(400); // no renewal: expired
    const second = await OutputLease.acquire(store, { runId: 'run-b', settleMs: 10 });
    expect((await readLease(store))).toMatchObject({ runId: 'run-b', token: second.current.token });
    // the old holder's next renewal finds someone else's lease: it must stop writing
    await (first as unknown as { renew(): Promise<void> }).renew();
    expect(lost).toEqual([expect.stringContaining('run run-b')]);
    // and its release leaves the new holder's lease alone
    await first.release();
    expect((await readLease(store))?.runId).toBe('run-b');
    await second.release();
  });

  it('renewal pushes the expiry forward', async () => {
    const lease = await OutputLease.acquire(store, { runId: 'run-a', ttlMs: 60_000, renewMs: 50, settleMs: 10 });
    const before = Date.parse((await readBesideRenewals(store))!.expiresAt);
    await sleep(200);
    const after = Date.parse((await readBesideRenewals(store))!.expiresAt);
    expect(after).toBeGreaterThan(before);
    await lease.release();
  });

  it('treats an unreadable lease file as free', async () => {
    await store.put(LEASE_KEY, Buffer.from('{ torn'));
    const lease = await OutputLease.acquire(store, { runId: 'run-c', settleMs: 10 });
    expect((await readLease(store))?.runId).toBe('run-c');
    await lease.release();
  });
});

describe('OutputLease of a dead process on this host', () => {
  it('is taken over before its expiry', async () => {
    const store = new LocalStore(join(root, 'dead'));
    const { spawnSync } = await import('node:child_process');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const { hostname } = await import('node:os');
    const far = new Date(Date.now() + 3_600_000).toISOString();
    await store.put(LEASE_KEY, Buffer.from(JSON.stringify({ host: hostname(), pid: Number(gone), runId: 'dead-run', since: far, renewedAt: far, expiresAt: far, token: 'x' })));
    const lease = await OutputLease.acquire(store, { runId: 'run-d', settleMs: 10 });
    expect((await readLease(store))?.runId).toBe('run-d');
    await lease.release();
  });
});
