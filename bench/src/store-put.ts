/**
 * CPU of one mask tile's upload (issue 13): `put` of a tile-sized object into a LocalStore (and
 * into the same put as it was before issue 13, in alternation) and into an S3Store talking to the repo's loopback S3 server (s3rver, test/support/s3-server-main.js,
 * run as its own process so that only the client's CPU is charged). Process CPU of this process
 * (libuv's threads included) per put, puts one at a time, as the worker's window steps do.
 *
 *   node bench/dist/store-put.js [--puts 200] [--bytes 300000]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { LocalStore, S3Store, type ObjectStore } from '@fleet/storage';

const SERVER = resolve(__dirname, '..', '..', 'test', 'support', 's3-server-main.js');

async function cpuPerPut(store: Pick<ObjectStore, 'put'>, body: Uint8Array, puts: number): Promise<{ cpuMs: number; wallMs: number }> {
  // a run's tiles: distinct keys in one folder, some rewritten (a retried window)
  for (let i = 0; i < 20; i++) await store.put(`runs/bench/tiles/warm-${i}.tile`, body);
  const before = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < puts; i++) await store.put(`runs/bench/tiles/r${Math.floor(i / 10)}-c${i % 10}.tile`, body);
  const used = process.cpuUsage(before);
  return { cpuMs: (used.user + used.system) / 1000 / puts, wallMs: (performance.now() - t0) / puts };
}

/**
 * LocalStore.put before issue 13, for comparison in the same process: a recursive mkdir of the
 * key's folder on every put, then the same temp file and rename.
 */
function formerLocalPut(root: string): Pick<ObjectStore, 'put'> {
  return {
    async put(key: string, body: Uint8Array): Promise<void> {
      const target = join(root, ...key.split('/'));
      await mkdir(dirname(target), { recursive: true });
      const temp = join(dirname(target), `.fleet-tmp-${randomBytes(6).toString('hex')}-${key.slice(key.lastIndexOf('/') + 1)}`);
      await writeFile(temp, body, { flag: 'wx' });
      await rename(temp, target);
    },
  };
}

async function startServer(): Promise<{ endpoint: string; stop: () => void }> {
  const child = spawn(process.execPath, [SERVER, '--bucket', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((done, fail) => {
    createInterface({ input: child.stdout! }).once('line', done);
    child.once('exit', (code) => fail(new Error(`s3-server-main exited with ${code}`)));
  });
  const { endpoint } = JSON.parse(line) as { endpoint: string };
  return { endpoint, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { puts: { type: 'string' }, bytes: { type: 'string' } } });
  const puts = Number(values.puts ?? 200);
  // incompressible bytes of a compressed tile's size (~280-400 KB for a 512 px window)
  const body = randomBytes(Number(values.bytes ?? 300_000));
  process.stdout.write(`${cpus().length} CPUs, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${puts} puts of ${body.length} bytes\n`);

  // the former and the current LocalStore put in alternation, `puts` each per round, 4 rounds
  const root = await mkdtemp(join(tmpdir(), 'store-put-'));
  const locals: Record<string, Pick<ObjectStore, 'put'>> = {
    'LocalStore put before (mkdir per put)': formerLocalPut(join(root, 'former')),
    'LocalStore put': new LocalStore(join(root, 'current')),
  };
  const sums: Record<string, { cpuMs: number; wallMs: number }> = {};
  for (let round = 0; round < 4; round++) {
    for (const [name, store] of Object.entries(locals)) {
      const r = await cpuPerPut(store, body, puts);
      sums[name] = { cpuMs: (sums[name]?.cpuMs ?? 0) + r.cpuMs / 4, wallMs: (sums[name]?.wallMs ?? 0) + r.wallMs / 4 };
    }
  }
  for (const [name, r] of Object.entries(sums)) process.stdout.write(`  ${name}: ${r.cpuMs.toFixed(3)} ms CPU, ${r.wallMs.toFixed(3)} ms wall per put\n`);
  await rm(root, { recursive: true, force: true });

  const server = await startServer();
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  const s3 = new S3Store('s3://bench/fleet', { endpoint: server.endpoint, region: 'us-east-1' });
  try {
    const s = await cpuPerPut(s3, body, puts);
    process.stdout.write(`  S3Store put (s3rver on loopback, its own process): ${s.cpuMs.toFixed(3)} ms CPU, ${s.wallMs.toFixed(3)} ms wall per put\n`);
  } finally {
    await s3.close();
    server.stop();
  }
  process.stdout.write(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`store-put failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
