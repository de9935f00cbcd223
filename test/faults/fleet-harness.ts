/**
 * What every fault scenario shares: a small real mosaic and model, a fleet of real `fleet`
 * processes (enqueue, workers, merger) on one queue prefix, waiting on the run state, and the
 * checks that a run lost nothing: the done bitmap has every window once, the stats count each
 * window once, and the blocks are byte-identical to a fault-free reference run's.
 */
import { mkdtempSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetQueues, RunState, type RunProgress } from '../../packages/jobs/src';
import { createRedisConnection } from '../../packages/redis/src';
import { startFleet, runFleet, type FleetProcess } from '../support/fleet-process';
import { wholeMosaicArgmax } from '../support/map-check';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic, type StackFixture } from '../support/mosaic-fixture';
import type { default as IORedis, RedisOptions } from 'ioredis';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 800 x 800 px with --overlap 384 (a 128 px step): 16 windows, 4 blocks of 400 x 400. */
export const WINDOWS = 16;
export const BLOCKS = 4;

/** The access and modification time of every fixture dalle. */
export const DALLE_TIME = new Date('2026-01-01T00:00:00Z');

export interface Fixture {
  root: string;
  mosaic: StackFixture;
  model: string;
  /** The whole-mosaic argmax the reference run must reproduce. */
  expected: Uint8Array;
}

export async function prepareFixture(name: string): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), `fleet-faults-${name}-`));
  const mosaic = await writeStackMosaic(join(root, 'stack'), 2, 2, 400, 400);
  const model = join(root, 'model');
  const expected = await wholeMosaicArgmax(mosaic, writePerPixelModel(model, 13));
  // whole-second times, so a scenario that rewrites a dalle in place can put back the exact
  // mtime (part of a local file's etag, hence of the run id) that utimes cannot set to the ns
  for (const d of mosaic.dalles) utimesSync(join(mosaic.dir, `${d.name}.tif`), DALLE_TIME, DALLE_TIME);
  return { root, mosaic, model, expected };
}

export const runArgs = (fx: Fixture, out: string) => ['--stack', fx.mosaic.dir, '--model', fx.model, '--out', out, '--overlap', '384'];

/**
 * Settings of every scenario: batches of 2 windows, 2 in hand per worker, one onnxruntime
 * thread (2 cores shared by the whole machine), a 5 s lock and a 1 s stalled check so that a
 * killed worker's windows come back within about 5 + 2 x 1 s instead of minutes; the same for
 * merges (a killed merger's block, or a merge whose end Redis lost), instead of the merger's
 * 2 min lock and 30 s check.
 */
export function fleetEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    FLEET_QUEUE_PREFIX: prefix,
    FLEET_BATCH_SIZE: '2',
    FLEET_CONCURRENCY: '2',
    FLEET_THREADS: '1',
    FLEET_LOCK_MS: '5000',
    FLEET_STALLED_MS: '1000',
    FLEET_MERGE_LOCK_MS: '5000',
    FLEET_MERGE_STALLED_MS: '1000',
    FLEET_SHUTDOWN_MS: '20000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export interface EnqueueResult {
  runId: string;
  created: boolean;
  submitted: number;
  alreadyDone: number;
  windows: number;
  blocks: number;
}

/** One scenario's fleet: its processes, its queue prefix, the run state it watches. */
export class Fleet {
  readonly procs: FleetProcess[] = [];
  readonly connection: IORedis;
  readonly queues: FleetQueues;
  private started = 0;

  /** `redis`: extra ioredis options of the test's own connection (e.g. a TLS CA). */
  constructor(readonly env: Record<string, string>, readonly logDir: string, redis: RedisOptions = {}) {
    this.connection = createRedisConnection(env.REDIS_URL!, redis);
    this.queues = new FleetQueues(this.connection, env.FLEET_QUEUE_PREFIX!);
  }

  state(runId: string): RunState {
    return new RunState(this.connection, this.env.FLEET_QUEUE_PREFIX!, runId);
  }

  /** A `fleet worker` or `fleet merger` process with its own JSON log file. */
  start(kind: 'worker' | 'merger', extra: Record<string, string> = {}): FleetProcess {
    const p = startFleet([kind], { ...this.env, LOG_FILE: join(this.logDir, `${kind}-${++this.started}.log`), ...extra });
    this.procs.push(p);
    return p;
  }

  async enqueue(args: string[]): Promise<EnqueueResult> {
    const r = await runFleet(['enqueue', ...args], this.env);
    if (r.code !== 0) throw new Error(`fleet enqueue exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as EnqueueResult;
  }

  /**
   * Polls the run state until `until` holds; after `ms` fails with every process's stderr and
   * the last lines of each process's log file (the processes log there, not on stderr).
   */
  async waitFor(runId: string, until: (p: RunProgress) => boolean, ms = 90_000): Promise<RunProgress> {
    const deadline = Date.now() + ms;
    for (;;) {
      const p = await this.state(runId).progress();
      if (p && until(p)) return p;
      if (Date.now() > deadline) {
        throw new Error(`run ${runId} did not get there in ${ms} ms: ${JSON.stringify(p)}\n${this.procs.map((x) => x.stderr()).join('\n')}\n${logTails(this.logDir, 8)}`);
      }
      await sleep(25);
    }
  }

  /** SIGTERM to every live process; their exit codes, in start order. */
  async stopAll(): Promise<Array<number | null>> {
    for (const p of this.procs) if (alive(p)) p.child.kill('SIGTERM');
    return Promise.all(this.procs.map((p) => p.exited));
  }

  async close(): Promise<void> {
    for (const p of this.procs) if (alive(p)) p.child.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => p.exited));
    await this.queues.close();
    this.connection.disconnect();
  }
}

export const alive = (p: FleetProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** Set bits of a Redis bitmap. */
export function popcount(bitmap: Buffer): number {
  let n = 0;
  for (const byte of bitmap) for (let b = byte; b; b &= b - 1) n++;
  return n;
}

/**
 * Nothing lost, nothing twice: every window's bit is set, the run counted each window once
 * (COMPLETE_WINDOW counts only a window's first completion), nothing failed, every block merged.
 */
export async function expectEveryWindowOnce(state: RunState): Promise<void> {
  expect(popcount(await state.doneBitmap())).toBe(WINDOWS);
  const stats = await state.stats();
  expect([stats.windows_done, stats.windows_skipped ?? 0, stats.windows_failed ?? 0]).toEqual([WINDOWS, 0, 0]);
  expect(await state.progress()).toMatchObject({ status: 'done', windows: WINDOWS, done: WINDOWS, failed: 0, blocks: BLOCKS, blocksMerged: BLOCKS });
}

/** The block GeoTIFFs of a local output folder holding one run (runs/<runId>/blocks/), by name. */
export function readBlocks(out: string): Map<string, Buffer> {
  const runs = readdirSync(join(out, 'runs'));
  if (runs.length !== 1) throw new Error(`${out}: expected the blocks of one run under runs/, found ${runs.length} runs`);
  const dir = join(out, 'runs', runs[0]!, 'blocks');
  return new Map(readdirSync(dir).filter((f) => f.endsWith('.tif')).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

/** Names of blocks whose bytes differ from the reference's (or are missing from either). */
export function differingBlocks(reference: Map<string, Buffer>, got: Map<string, Buffer>): string[] {
  const names = new Set([...reference.keys(), ...got.keys()]);
  return [...names].filter((n) => !reference.get(n) || !got.get(n) || !reference.get(n)!.equals(got.get(n)!)).sort();
}

/** The last `lines` lines of every log file in `logDir`, each under its file's name. */
function logTails(logDir: string, lines: number): string {
  return readdirSync(logDir)
    .sort()
    .map((f) => `--- ${f}\n${readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean).slice(-lines).join('\n')}`)
    .join('\n');
}

/** JSON lines of every log file of `kind` in the fleet's log folder. */
export function logLines(logDir: string, kind: string): Array<Record<string, unknown>> {
  return readdirSync(logDir)
    .filter((f) => f.startsWith(`${kind}-`))
    .flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Corrupts a classic little-endian tiled TIFF (what the fixture writer produces) the way a
 * download cut short into a preallocated file does: each tile listed in `tiles` (default:
 * all) keeps its first 60% of bytes and the rest is zeros. Size and directory stay valid, so the coordinator's header scan
 * accepts the file and only decoding its tiles fails (as in test/e2e/failures.test.ts).
 */
export function cutTileData(file: Buffer, tiles?: readonly number[]): Buffer {
  const out = Buffer.from(file);
  const ifd = out.readUInt32LE(4);
  const entries = out.readUInt16LE(ifd);
  const values = (tag: number): number[] => {
    for (let i = 0; i < entries; i++) {
      const at = ifd + 2 + 12 * i;
      if (out.readUInt16LE(at) !== tag) continue;
      const size = out.readUInt16LE(at + 2) === 3 ? 2 : 4;
      const count = out.readUInt32LE(at + 4);
      const base = count * size <= 4 ? at + 8 : out.readUInt32LE(at + 8);
      return Array.from({ length: count }, (_, k) => (size === 2 ? out.readUInt16LE(base + 2 * k) : out.readUInt32LE(base + 4 * k)));
    }
    throw new Error(`TIFF tag ${tag} not found`);
  };
  const offsets = values(324);
  const counts = values(325);
  for (const i of tiles ?? offsets.keys()) out.fill(0, offsets[i]! + Math.floor(counts[i]! * 0.6), offsets[i]! + counts[i]!);
  return out;
}
