/**
 * How fast the `fleet` CLI starts (issue 11, "Fast CLI"): each command is run as a fresh node
 * process, the way a user or a script runs it (`node apps/cli/bin/fleet.js ...`), N times; wall
 * time from spawn to exit, and the modules in require.cache at exit (through `node -r`, which
 * sees what `import()` loads too). `fleet status` runs against a private redis-server holding a
 * run of --windows windows, half of them finished, so it measures a real answer, not a refusal.
 *
 *   npm run bench:cli-start -- [--runs 10] [--windows 10000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RunState, type RunSpec, type WindowCompletion } from '@fleet/jobs';
import { createRedisConnection, startPrivateRedis } from '@fleet/redis';

const FLEET_BIN = join(__dirname, '..', '..', 'apps', 'cli', 'bin', 'fleet.js');

interface Timing {
  ms: number[];
  cpuMs: number[];
  modules: number;
  code: number | null;
}

function measure(args: string[], env: Record<string, string>, runs: number, preload: string): Timing {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let modules = 0;
  let code: number | null = null;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-r', preload, FLEET_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    const m = /modules=(\d+)/.exec(r.stderr);
    modules = m ? Number(m[1]) : -1;
    cpuMs.push(Number(/cpu=([\d.]+)/.exec(r.stderr)?.[1] ?? NaN));
    code = r.status;
  }
  return { ms: ms.sort((a, b) => a - b), cpuMs: cpuMs.sort((a, b) => a - b), modules, code };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, windows: { type: 'string' } } });
  const runs = Number(values.runs ?? 10);
  const side = Math.ceil(Math.sqrt(Number(values.windows ?? 10_000)));
  const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
  const preload = join(dir, 'count-modules.js');
  // CPU time (user + system) of the process itself, beside the wall time: on a machine shared
  // with other jobs the wall time mostly measures the wait for a core, the CPU time much less so
  writeFileSync(preload, "process.on('exit', () => { const c = process.cpuUsage(); process.stderr.write(`\\nmodules=${Object.keys(require.cache).length} cpu=${(c.user + c.system) / 1000}\\n`); });\n");
  const redis = await startPrivateRedis();
  const connection = createRedisConnection(redis.url);
  try {
    const px = 384 * (side - 1) + 512;
    const spec: RunSpec = {
      runId: 'bench-cli',
      createdAt: new Date(Date.now() - 600_000).toISOString(),
      mosaic: { width: px, height: px, geoTransform: [600000, 0.2, 0, 6800000, 0, -0.2], epsg: 2154 },
      sources: [{ role: 'stack', location: '/data', dalles: [{ uri: 'a.tif', x: 0, y: 0, width: px, height: px, bands: 5 }] }],
      model: { location: '/models/none', name: 'none', version: '1', classes: [{ id: 1, name: 'building', color: '#db0e9a' }] },
      output: '/out',
      patch: 512,
      overlap: 128,
      topK: 2,
      blocks: [{ id: 'all', x: 0, y: 0, width: px, height: px }],
      windowCount: side * side,
      groupSide: 8,
    };
    const state = new RunState(connection, 'bench', spec.runId);
    await state.init(spec, new Map([['all', spec.windowCount]]));
    const half: WindowCompletion[] = [];
    for (let i = 0; i < spec.windowCount / 2; i++) half.push({ index: i, windowId: `r${Math.floor(i / side)}-c${i % side}`, outcome: 'done', blocks: ['all'] });
    for (let i = 0; i < half.length; i += 500) await state.completeWindows(half.slice(i, i + 500));
    const env = { REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: 'bench' };
    const cases: [string, string[]][] = [
      ['fleet --help', ['--help']],
      ['fleet status --help', ['status', '--help']],
      ['fleet board --help', ['board', '--help']],
      [`fleet status <run> (JSON, ${spec.windowCount} windows)`, ['status', spec.runId]],
      ['fleet status <run> --oneline', ['status', spec.runId, '--oneline']],
    ];
    console.log(`node ${process.version}, ${cpus().length} vCPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}, ${runs} runs each`);
    console.log('| command | exit | wall ms (min / median / max) | CPU ms, user + system (min / median / max) | modules |');
    console.log('|---|---|---|---|---|');
    for (const [name, args] of cases) {
      const t = measure(args, env, runs, preload);
      const f = (n: number) => Math.round(n).toString();
      const spread = (v: number[]) => `${f(v[0]!)} / ${f(v[Math.floor(v.length / 2)]!)} / ${f(v.at(-1)!)}`;
      console.log(`| \`${name}\` | ${t.code} | ${spread(t.ms)} | ${spread(t.cpuMs)} | ${t.modules} |`);
    }
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    connection.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
