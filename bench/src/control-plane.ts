/**
 * Control-plane benchmark (issue 9): does the queue and the run state scale to a
 * département? No pixel is read or inferred: the dalles are header-only sparse GeoTIFFs, and
 * the workers run the real worker (BullMQ group jobs, done-bits read, window limiter, bulk
 * completion script, merge enqueueing) with the window's read/inference/upload injected as a
 * no-op. Mergers are not run: merge jobs are enqueued and left waiting.
 *
 *   npm run bench:control-plane -- [--grid 20] [--dalle-px 25000] [--workers 1,4] [--group-side G] [--patch 1024] [--overlap 256]
 *
 * Per worker count, on a fresh private redis-server: plan (planRun: header scan, layout,
 * geometry), enqueue (enqueueRun), drain; reports the time to plan and to enqueue, Redis's
 * peak used_memory (INFO memory polled every 50 ms, and used_memory_peak), Redis CPU
 * (used_cpu_sys + used_cpu_user deltas) per window, and windows/s completed.
 * Workers are child processes (node:child_process fork of control-plane-worker.js), as the
 * fleet runs them: each has its own event loop and Redis connections.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { enqueueRun, planRun } from '@fleet/coordinator';
import { FleetQueues, RunState } from '@fleet/jobs';
import { createRedisConnection, startPrivateRedis, type PrivateRedis } from '@fleet/redis';
import type IORedis from 'ioredis';
import { CACHE_DIR, modelWithPatch, trivialModel } from './fixtures';

const run = promisify(execFile);

const USAGE = `npm run bench:control-plane -- [--grid N] [--dalle-px PX] [--workers 1,4] [--group-side G]
  --grid        dalles per side (default 20: 400 dalles)
  --dalle-px    dalle side in pixels (default 25000: BD ORTHO's 5 km at 20 cm)
  --workers     worker process counts to run, one fresh Redis each (default 1,4)
  --group-side  windows per job side (default: the coordinator's choice)
  --patch       window size (default 1024, FLAIR-INC's; 512 for the figures before 2026-11-30 10:00)
  --overlap     window overlap (default: the coordinator's, 256 px)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      grid: { type: 'string' }, 'dalle-px': { type: 'string' }, workers: { type: 'string' }, 'group-side': { type: 'string' },
      patch: { type: 'string' }, overlap: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) return log(USAGE);
  const grid = int('grid', values.grid, 20);
  const dallePx = int('dalle-px', values['dalle-px'], 25_000);
  const workerCounts = (values.workers ?? '1,4').split(',').map((v) => int('workers', v, 1));
  const groupSide = values['group-side'] === undefined ? undefined : int('group-side', values['group-side'], 1);
  const patch = int('patch', values.patch, 1024);
  const overlap = values.overlap === undefined ? undefined : int('overlap', values.overlap, 0);

  const started = new Date();
  log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const dir = await sparseDalles(grid, dallePx);
  // the per-pixel graph has symbolic H and W: the same graph at any window size
  const model = await modelWithPatch(await trivialModel(), patch);
  const out = join(CACHE_DIR, 'control-plane-out');
  const request = {
    sources: { stack: dir }, model, output: out, runId: `bench-cp-${grid}-${dallePx}-${patch}-${overlap ?? 'auto'}-${groupSide ?? 'auto'}`,
    ...(groupSide ? { groupSide } : {}), ...(overlap === undefined ? {} : { overlap }),
  };

  const rows = [];
  for (const workers of workerCounts) {
    const redis = await startPrivateRedis();
    const connection = createRedisConnection(redis.url);
    const queues = new FleetQueues(connection, 'fleet');
    try {
      const t0 = performance.now();
      const planned = await planRun(request);
      const planMs = performance.now() - t0;
      const { spec } = planned;
      log(`\n${grid}x${grid} dalles of ${dallePx} px, ${spec.patch} px windows, overlap ${spec.overlap}: ${spec.windowCount} windows, groups of up to ${spec.groupSide}x${spec.groupSide}, ${workers} worker process(es)`);
      const memory = new MemoryWatch(connection);
      const cpuStart = await redisCpu(connection);
      const t1 = performance.now();
      const enqueued = await enqueueRun(connection, queues, spec, planned.windowsPerBlock);
      const enqueueMs = performance.now() - t1;
      const cpuEnqueued = await redisCpu(connection);
      const memoryAfterEnqueue = await usedMemory(connection);
      log(`  plan ${(planMs / 1000).toFixed(2)} s, enqueue ${(enqueueMs / 1000).toFixed(2)} s (${enqueued.groups} jobs), Redis used_memory after enqueue ${mb(memoryAfterEnqueue)}`);

      const state = new RunState(connection, 'fleet', spec.runId);
      // the clock starts once every worker process is up (node and module loading are not
      // the control plane's cost): the queue is paused until then
      await queues.infer.pause();
      const children = Array.from({ length: workers }, () => startWorkerProcess(redis));
      await Promise.all(children.map(ready));
      await connection.config('RESETSTAT');
      const cpuReady = await redisCpu(connection);
      const t2 = performance.now();
      await queues.infer.resume();
      let last = 0;
      for (;;) {
        const p = (await state.progress())!;
        const finished = p.done + p.skipped + p.failed;
        if (finished >= spec.windowCount) break;
        if (performance.now() - t2 > 30 * 60_000) throw new Error(`drain stalled at ${finished}/${spec.windowCount}`);
        if (finished - last >= spec.windowCount / 10) {
          log(`  ${finished}/${spec.windowCount} windows, ${(finished / ((performance.now() - t2) / 1000)).toFixed(0)}/s`);
          last = finished;
        }
        await sleep(200);
      }
      const drainMs = performance.now() - t2;
      const cpuDrained = await redisCpu(connection);
      const commands = await commandStats(connection);
      await Promise.all(children.map(stopChild));
      memory.stop();
      const peak = Math.max(memory.max, await usedMemoryPeak(connection));
      const mergesWaiting = await queues.merge.count();
      const row = {
        windows: spec.windowCount,
        patch: spec.patch,
        overlap: spec.overlap,
        groupSide: spec.groupSide,
        jobs: enqueued.groups,
        workers,
        planS: planMs / 1000,
        enqueueS: enqueueMs / 1000,
        peakUsedMemoryMB: peak / 2 ** 20,
        redisCpuUsPerWindowEnqueue: ((cpuEnqueued - cpuStart) * 1e6) / spec.windowCount,
        redisCpuUsPerWindowDrain: ((cpuDrained - cpuReady) * 1e6) / spec.windowCount,
        windowsPerSecond: spec.windowCount / (drainMs / 1000),
        mergesEnqueued: mergesWaiting,
      };
      log(`  drained in ${(drainMs / 1000).toFixed(1)} s: ${row.windowsPerSecond.toFixed(0)} windows/s; Redis CPU ${row.redisCpuUsPerWindowDrain.toFixed(2)} us/window draining (+${row.redisCpuUsPerWindowEnqueue.toFixed(2)} enqueueing); peak used_memory ${mb(peak)}; ${mergesWaiting} merge jobs enqueued for ${spec.blocks.length} blocks`);
      log(`  Redis commands while draining (us per window: calls x usec_per_call / windows):`);
      for (const c of commands.slice(0, 8)) log(`    ${c.name.padEnd(24)} ${(c.usec / spec.windowCount).toFixed(2).padStart(6)} us/window, ${c.calls} calls, ${c.perCall.toFixed(1)} us/call`);
      rows.push({ ...row, commands: commands.slice(0, 8).map((c) => ({ name: c.name, usPerWindow: c.usec / spec.windowCount, calls: c.calls })) });
    } finally {
      await queues.close();
      connection.disconnect();
      await redis.stop();
    }
  }
  log(`\n${JSON.stringify({ date: started.toISOString(), node: process.version, cpus: cpus().length, grid, dallePx, rows })}`);
}

/** grid x grid header-only GeoTIFFs (5 bands, tiled 512, no tile written): a few KB each. */
async function sparseDalles(grid: number, px: number): Promise<string> {
  const dir = join(CACHE_DIR, `sparse-${grid}x${grid}-${px}`);
  const done = join(dir, '.complete');
  if (existsSync(done)) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const metres = px * 0.2;
  log(`writing ${grid * grid} sparse dalles of ${px} px to ${dir} (gdal_create)...`);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const x = 600_000 + c * metres;
      const y = 6_900_000 - r * metres;
      await run('gdal_create', [
        '-of', 'GTiff', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=512', '-co', 'BLOCKYSIZE=512', '-co', 'SPARSE_OK=TRUE',
        '-outsize', String(px), String(px), '-bands', '5', '-ot', 'Byte', '-a_srs', 'EPSG:2154',
        '-a_ullr', String(x), String(y), String(x + metres), String(y - metres), '-q',
        join(dir, `D-${String(c).padStart(3, '0')}-${String(r).padStart(3, '0')}.tif`),
      ]);
    }
  }
  await run('touch', [done]);
  return dir;
}

function startWorkerProcess(redis: PrivateRedis): ChildProcess {
  return fork(join(__dirname, 'control-plane-worker.js'), [], {
    env: { ...process.env, REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: 'fleet', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`a bench worker exited ${code} before it was ready`)));
  });
}

/** INFO commandstats, by total time: where Redis's CPU goes. */
async function commandStats(redis: IORedis): Promise<Array<{ name: string; calls: number; usec: number; perCall: number }>> {
  const out = [];
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([0-9.]+)/.exec(line);
    if (m) out.push({ name: m[1]!, calls: Number(m[2]), usec: Number(m[3]), perCall: Number(m[4]) });
  }
  return out.sort((a, b) => b.usec - a.usec);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** INFO memory's used_memory, polled: the peak while the run is enqueued and drained. */
class MemoryWatch {
  max = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(redis: IORedis) {
    this.timer = setInterval(() => {
      void usedMemory(redis).then((m) => (this.max = Math.max(this.max, m))).catch(() => undefined);
    }, 50);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function info(redis: IORedis, section: string, field: string): Promise<number> {
  const m = new RegExp(`^${field}:([0-9.]+)`, 'm').exec(await redis.info(section));
  return m ? Number(m[1]) : 0;
}
const usedMemory = (redis: IORedis) => info(redis, 'memory', 'used_memory');
const usedMemoryPeak = (redis: IORedis) => info(redis, 'memory', 'used_memory_peak');
async function redisCpu(redis: IORedis): Promise<number> {
  return (await info(redis, 'cpu', 'used_cpu_sys')) + (await info(redis, 'cpu', 'used_cpu_user'));
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}\n${USAGE}`);
  return n;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:control-plane failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
