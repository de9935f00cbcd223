/**
 * `fleet retry` at département scale (issue 9): a finished run with 100,000 failed windows is
 * written straight into a private redis-server (what 10^5 failed completions and the merges
 * would leave: the done and failed bitmaps, one failure message per window, every block
 * merged), then `retryFailedWindows` — the function `fleet retry` calls — resets the failures,
 * removes and re-adds their group jobs and un-merges their blocks.
 *
 *   npm run bench:retry -- [--failed 100000] [--group-side 8]
 *
 * Reports the wall time of the retry, Redis CPU (used_cpu_sys + used_cpu_user deltas) per
 * failed window, Redis used_memory before and after, and the group jobs queued.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { regularBlocks } from '@fleet/grid';
import { FleetQueues, geometryOf, retryFailedWindows, RunState, runKeys, type RunSpec } from '@fleet/jobs';
import { createRedisConnection, startPrivateRedis } from '@fleet/redis';
import type IORedis from 'ioredis';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { failed: { type: 'string' }, 'group-side': { type: 'string' } } });
  const failed = Number(values.failed ?? 100_000);
  const groupSide = Number(values['group-side'] ?? 8);
  // a square plan just large enough for `failed` windows (step 384 px, 512 px windows)
  const side = Math.ceil(Math.sqrt(failed));
  const px = 384 * (side - 1) + 512;
  const spec: RunSpec = {
    runId: 'bench-retry',
    createdAt: new Date().toISOString(),
    mosaic: { width: px, height: px, geoTransform: [600000, 0.2, 0, 6800000, 0, -0.2], epsg: 2154 },
    sources: [{ role: 'stack', location: '/data', dalles: [{ uri: 'a.tif', x: 0, y: 0, width: px, height: px, bands: 5 }] }],
    model: { location: '/models/none', name: 'none', version: '1', classes: [{ id: 1, name: 'building', color: '#db0e9a' }] },
    output: '/out',
    patch: 512,
    overlap: 128,
    topK: 2,
    blocks: regularBlocks(px, px, 25_000),
    windowCount: side * side,
    groupSide,
  };
  log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const redis = await startPrivateRedis();
  const connection = createRedisConnection(redis.url);
  const queues = new FleetQueues(connection, 'fleet');
  try {
    await finishedRunWithFailures(connection, spec, failed);
    const memoryBefore = await info(connection, 'memory', 'used_memory');
    const cpuBefore = await redisCpu(connection);
    const t0 = performance.now();
    const outcome = await retryFailedWindows(connection, queues, spec.runId);
    const seconds = (performance.now() - t0) / 1000;
    const cpuUs = ((await redisCpu(connection)) - cpuBefore) * 1e6;
    const memoryAfter = await info(connection, 'memory', 'used_memory');
    const waiting = await queues.infer.getWaitingCount();
    log(`${spec.windowCount} windows (groups of ${groupSide} x ${groupSide}), ${failed} failed, ${spec.blocks.length} blocks`);
    log(`  fleet retry: ${seconds.toFixed(2)} s; reset ${outcome.reset}, requeued ${outcome.requeued} windows in ${outcome.jobs} group jobs (${waiting} waiting), ${outcome.blocks.length} blocks to merge again`);
    log(`  Redis CPU ${(cpuUs / failed).toFixed(2)} us per failed window; used_memory ${mb(memoryBefore)} before, ${mb(memoryAfter)} after`);
  } finally {
    await queues.close();
    connection.disconnect();
    await redis.stop();
  }
}

/** The done and failed bitmaps, failure messages and merged blocks of a finished run whose first `failed` windows failed. */
async function finishedRunWithFailures(redis: IORedis, spec: RunSpec, failed: number): Promise<void> {
  const state = new RunState(redis, 'fleet', spec.runId);
  await state.init(spec, new Map(spec.blocks.map((b) => [b.id, 0])));
  const k = runKeys('fleet', spec.runId);
  const bytes = Math.ceil(spec.windowCount / 8);
  const done = Buffer.alloc(bytes);
  const failedBits = Buffer.alloc(bytes);
  for (let i = 0; i < spec.windowCount; i++) {
    done[i >> 3]! |= 0x80 >> (i & 7);
    if (i < failed) failedBits[i >> 3]! |= 0x80 >> (i & 7);
  }
  const cols = geometryOf(spec).plan.colStarts.length;
  for (let i = 0; i < failed; i += 5_000) {
    const fields: Record<string, string> = {};
    for (let j = i; j < Math.min(failed, i + 5_000); j++) fields[`r${Math.floor(j / cols)}-c${j % cols}`] = 'a.tif: truncated';
    await redis.hset(k.failures, fields);
  }
  await redis
    .multi()
    .set(k.windowsDone, done)
    .set(k.windowsFailed, failedBits)
    .sadd(k.blocksMerged, ...spec.blocks.map((b) => b.id))
    .hset(k.blockResults, Object.fromEntries(spec.blocks.map((b) => [b.id, '{}'])))
    .set(k.blocksRemaining, 0)
    .set(k.status, 'done')
    .exec();
}

async function info(redis: IORedis, section: string, field: string): Promise<number> {
  const m = new RegExp(`^${field}:([0-9.]+)`, 'm').exec(await redis.info(section));
  return m ? Number(m[1]) : 0;
}
async function redisCpu(redis: IORedis): Promise<number> {
  return (await info(redis, 'cpu', 'used_cpu_sys')) + (await info(redis, 'cpu', 'used_cpu_user'));
}
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:retry failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
