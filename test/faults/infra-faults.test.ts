import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis, type PrivateRedis } from '../../packages/redis/src';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { uniquePrefix } from '../support/redis';
import { startS3Server, type S3TestServer } from '../support/s3-server';
import { alive, differingBlocks, expectEveryWindowOnce, Fleet, fleetEnv, prepareFixture, runArgs, sleep, WINDOWS, type Fixture } from './fleet-harness';

const OUT = 's3://fleet/out';

/**
 * Infrastructure faults: the run's output on a real S3 server (s3rver) reached only through
 * a fault-injecting proxy, and a Redis of this suite's own with AOF persistence, as
 * production runs it (infra/redis/redis.conf), so that it can be restarted mid-run. Each
 * scenario must end with every window counted once and blocks byte-identical to the
 * fault-free reference run's (same output URL, so the same run id).
 */
describe('fleet under storage and Redis faults', () => {
  let fx: Fixture;
  let redisDir: string;
  let redis: PrivateRedis;
  let s3: S3TestServer;
  let proxy: FaultProxy;
  let reference: Map<string, Buffer>;
  const fleets: Fleet[] = [];
  const figures: string[] = [];
  const savedEnv: Record<string, string | undefined> = {};

  const s3Env = () => ({
    ...s3.env,
    S3_ENDPOINT: proxy.endpoint,
    // explicit, as production should set them: attempts per request, idle-socket and connect timeouts
    S3_MAX_ATTEMPTS: '8',
    S3_RETRY_MODE: 'standard',
    S3_SOCKET_TIMEOUT_MS: '1500',
    S3_CONNECTION_TIMEOUT_MS: '1000',
  });

  /** Talks to s3rver directly (not through the proxy), for setup and checks. */
  const directStore = () => new S3Store(OUT, s3OptionsFromEnv(s3.env));

  async function scenario(name: string, extraEnv: Record<string, string> = {}): Promise<Fleet> {
    proxy.setRule(undefined);
    const store = directStore();
    try {
      for (const key of await store.list('')) await store.delete(key);
    } finally {
      await store.close();
    }
    const logDir = join(fx.root, 'logs', name);
    mkdirSync(logDir, { recursive: true });
    const fleet = new Fleet({ ...fleetEnv(redis.url, uniquePrefix(name), s3Env()), ...extraEnv }, logDir);
    fleets.push(fleet);
    return fleet;
  }

  async function readS3Blocks(): Promise<Map<string, Buffer>> {
    const store = directStore();
    try {
      const keys = (await store.list('runs/')).filter((k) => /^runs\/[^/]+\/blocks\/[^/]+\.tif$/.test(k));
      return new Map(await Promise.all(keys.map(async (k) => [k.replace(/^runs\/[^/]+\/blocks\//, ''), await store.get(k)] as [string, Buffer])));
    } finally {
      await store.close();
    }
  }

  async function runToEnd(fleet: Fleet, timeoutMs = 120_000): Promise<{ runId: string; seconds: number }> {
    const started = Date.now();
    const run = await fleet.enqueue(runArgs(fx, OUT));
    fleet.start('worker');
    fleet.start('worker');
    fleet.start('merger');
    await fleet.waitFor(run.runId, (p) => p.status === 'done', timeoutMs);
    return { runId: run.runId, seconds: (Date.now() - started) / 1000 };
  }

  beforeAll(async () => {
    fx = await prepareFixture('infra');
    redisDir = mkdtempSync(join(tmpdir(), 'fleet-aof-'));
    redis = await startPrivateRedis({ appendOnly: true, dir: redisDir });
    s3 = await startS3Server();
    await s3.bucket('fleet');
    // the SDK takes credentials from the environment only (never from store options)
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
      savedEnv[name] = process.env[name];
      process.env[name] = s3.env[name];
    }
    proxy = await startFaultProxy(s3.endpoint);
  }, 180_000);

  afterAll(async () => {
    for (const f of fleets) await f.close();
    await proxy?.stop();
    await s3?.stop();
    await redis?.stop();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    console.log(`infrastructure faults:\n  ${figures.join('\n  ')}`);
    if (redisDir) rmSync(redisDir, { recursive: true, force: true });
    if (fx) rmSync(fx.root, { recursive: true, force: true });
  });

  it('reference: a fault-free run to S3 through the (idle) proxy', async () => {
    const fleet = await scenario('s3-reference');
    const { runId, seconds } = await runToEnd(fleet);
    await expectEveryWindowOnce(fleet.state(runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    reference = await readS3Blocks();
    expect([...reference.keys()]).toEqual(fx.mosaic.dalles.map((d) => `${d.name}.tif`).sort());
    figures.push(`reference (S3 output): ${WINDOWS} windows, ${proxy.requests()} S3 requests, ${seconds.toFixed(1)} s`);
  }, 150_000);

  it('S3 503 SlowDown, 500, reset connections and stalled replies: retried with backoff, same blocks', async () => {
    // the merger keeps the mask tiles, so that they can be counted below
    const fleet = await scenario('s3-faults', { FLEET_KEEP_TILES: '1' });
    const before = proxy.requests();
    // about half of the requests to the output fail, each way a few times
    proxy.setRule(({ n, url }) => {
      if (!url.startsWith('/fleet/out')) return undefined;
      if (n % 6 === 1) return { kind: 'status', status: 503, code: 'SlowDown' };
      if (n % 6 === 3) return { kind: 'status', status: 500, code: 'InternalError' };
      if (n % 12 === 5) return { kind: 'reset' };
      if (n % 12 === 11) return { kind: 'delay', ms: 4000 }; // > S3_SOCKET_TIMEOUT_MS: the client gives up and retries
      return undefined;
    });
    // 63-80 s on a quiet machine (the SDK's backoff and the held replies); once over 120 s in a
    // full run of the suite, with 3 of 4 blocks merged: a wider margin, and a hang still fails here
    const { runId, seconds } = await runToEnd(fleet, 240_000);
    proxy.setRule(undefined);
    await expectEveryWindowOnce(fleet.state(runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    expect(differingBlocks(reference, await readS3Blocks())).toEqual([]);
    const injected = { ...proxy.injected };
    expect(injected['503']).toBeGreaterThan(0);
    expect(injected['500']).toBeGreaterThan(0);
    expect(injected.reset).toBeGreaterThan(0);
    // no tile half-written: exactly one object per window under the run's tiles
    const store = directStore();
    try {
      expect((await store.list(`_work/${runId}/tiles/`)).filter((k) => k.endsWith('.tile'))).toHaveLength(WINDOWS);
    } finally {
      await store.close();
    }
    figures.push(`S3 faults: ${proxy.requests() - before} requests through the proxy, injected ${JSON.stringify(injected)}; run took ${seconds.toFixed(1)} s, every fault retried by the SDK`);
  }, 300_000);

  it('Redis (AOF, noeviction) restarted mid-run: every process reconnects and the run completes', async () => {
    const fleet = await scenario('redis-restart');
    const started = Date.now();
    const run = await fleet.enqueue(runArgs(fx, OUT));
    fleet.start('worker');
    fleet.start('worker');
    fleet.start('merger');
    const atStop = await fleet.waitFor(run.runId, (p) => p.done >= 4);
    const port = redis.port;
    const stoppedAt = Date.now();
    await redis.stop(); // SIGTERM: Redis writes its AOF out and exits
    await sleep(1500);
    redis = await startPrivateRedis({ appendOnly: true, dir: redisDir, port });
    const downMs = Date.now() - stoppedAt;
    expect(await fleet.connection.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await fleet.connection.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    // the state written before the restart came back from the AOF
    expect((await fleet.state(run.runId).progress())!.done).toBeGreaterThanOrEqual(atStop.done);

    await fleet.waitFor(run.runId, (p) => p.status === 'done', 120_000);
    const afterRestart = (Date.now() - stoppedAt) / 1000;
    expect(fleet.procs.every(alive)).toBe(true);
    await expectEveryWindowOnce(fleet.state(run.runId));
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
    expect(differingBlocks(reference, await readS3Blocks())).toEqual([]);
    figures.push(`Redis restart at ${atStop.done}/${WINDOWS} done: down ${downMs} ms, run finished ${afterRestart.toFixed(1)} s after the stop (whole run ${((Date.now() - started) / 1000).toFixed(1)} s), all 3 processes reconnected`);
  }, 180_000);
});
