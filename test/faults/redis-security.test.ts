import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRedisServer, freePort } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet } from '../support/fleet-process';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';
import { Fleet, fleetEnv } from './fleet-harness';

const PASSWORD = 'fleet-s3cret-pw-4711';

/**
 * Redis AUTH (requirepass) and TLS (rediss://, Debian's redis-server is built with TLS) on a
 * private redis-server with a self-signed certificate made by openssl; the fleet trusts it
 * through NODE_EXTRA_CA_CERTS, as a deployment would with its own CA. A whole run goes over
 * TLS with a password, and the password appears in no output and no log.
 */
describe('fleet on a Redis with AUTH and TLS', () => {
  let root: string;
  let server: ChildProcess;
  let plainPort: number;
  let tlsPort: number;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-redis-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(root, 'key.pem'), '-out', join(root, 'cert.pem'),
    ], { stdio: 'ignore' });
    plainPort = await freePort();
    tlsPort = await freePort();
    server = spawn(ensureRedisServer(), [
      '--port', String(plainPort), '--bind', '127.0.0.1', '--dir', root, '--save', '', '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction', '--requirepass', PASSWORD,
      '--tls-port', String(tlsPort), '--tls-cert-file', join(root, 'cert.pem'), '--tls-key-file', join(root, 'key.pem'),
      '--tls-ca-cert-file', join(root, 'cert.pem'), '--tls-auth-clients', 'no',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout!.on('data', (d) => (log += String(d)));
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(log)) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`redis-server with TLS did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);

  afterAll(async () => {
    await fleet?.close();
    if (server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a whole mosaic over rediss:// with a password; the password is in no output or log', async () => {
    const mosaic = await writeStackMosaic(join(root, 'stack'), 1, 1, 300, 300);
    writePerPixelModel(join(root, 'model'), 3);
    const logDir = join(root, 'logs');
    mkdirSync(logDir);
    const url = `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`;
    fleet = new Fleet(fleetEnv(url, 'tls', { NODE_EXTRA_CA_CERTS: join(root, 'cert.pem'), LOG_LEVEL: 'debug' }), logDir, {
      tls: { ca: readFileSync(join(root, 'cert.pem')) },
    });
    const run = await fleet.enqueue(['--stack', mosaic.dir, '--model', join(root, 'model'), '--out', join(root, 'out')]);
    fleet.start('worker');
    fleet.start('merger');
    await fleet.waitFor(run.runId, (p) => p.status === 'done', 60_000);
    const status = await runFleet(['status', run.runId], fleet.env);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'done', windows: 1, done: 1, failed: 0, pending: 0 });
    expect(await fleet.stopAll()).toEqual([0, 0]);

    const everything = [
      ...fleet.procs.flatMap((p) => [p.stdout(), p.stderr()]),
      status.stdout, status.stderr,
      ...readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')),
    ].join('\n');
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(PASSWORD);
  }, 90_000);

  it('a plain redis:// connection with the password works; a wrong password fails without echoing either', async () => {
    const good = await runFleet(['status', 'run-none'], { REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${plainPort}`, FLEET_QUEUE_PREFIX: 'auth' });
    // authenticated: the answer comes from Redis itself
    expect([good.code, good.stderr]).toEqual([1, 'fleet status: no run run-none in this Redis (prefix auth)\n']);

    const wrong = await runFleet(['status', 'run-none'], { REDIS_URL: `redis://:wrong-${PASSWORD}@127.0.0.1:${plainPort}`, FLEET_QUEUE_PREFIX: 'auth' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/WRONGPASS|NOAUTH|invalid username-password/i);
    expect(wrong.stderr + wrong.stdout).not.toContain(PASSWORD);

    // nothing listening: a one-line error within seconds, the password redacted, not a hang
    const nowhere = await freePort();
    const started = Date.now();
    const down = await runFleet(['status', 'run-none'], { REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${nowhere}` });
    expect([down.code, down.stderr]).toEqual([1, `fleet status: cannot reach Redis at redis://:redacted@127.0.0.1:${nowhere}: connect ECONNREFUSED 127.0.0.1:${nowhere}\n`]);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);

  /** Every output of the processes and every file of their log folder, as one text. */
  const everything = (outputs: string[], logDir: string) =>
    [...outputs, ...(existsSync(logDir) ? readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')) : [])].join('\n');

  it('a wrong password: run and enqueue exit 2 in one line; worker and merger log the refusal; the password is nowhere, debug logs included', async () => {
    const mosaic = await writeStackMosaic(join(root, 'stack-wrong'), 1, 1, 300, 300);
    writePerPixelModel(join(root, 'model-wrong'), 3);
    const logDir = join(root, 'logs-wrong');
    mkdirSync(logDir);
    const wrong = `wrong-${PASSWORD}`;
    const args = ['--stack', mosaic.dir, '--model', join(root, 'model-wrong'), '--out', join(root, 'out-wrong')];
    const outputs: string[] = [];
    for (const [command, url] of [
      ['run', `redis://:${wrong}@127.0.0.1:${plainPort}`],
      ['enqueue', `redis://:${wrong}@127.0.0.1:${plainPort}`],
      ['run', `redis://default:${wrong}@127.0.0.1:${plainPort}`],
    ] as const) {
      const r = await runFleet([command, ...args], { REDIS_URL: url, LOG_LEVEL: 'debug', LOG_FILE: join(logDir, `${command}.log`), TMPDIR: root });
      const where = url.replace(wrong, 'redacted');
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `fleet ${command}: Redis at ${where} refused the connection: WRONGPASS invalid username-password pair or user is disabled; check REDIS_URL\n`]);
      outputs.push(r.stdout, r.stderr);
    }
    for (const part of ['worker', 'merger']) {
      const log = join(logDir, `${part}.log`);
      const p = startFleet([part], { REDIS_URL: `redis://:${wrong}@127.0.0.1:${plainPort}`, LOG_LEVEL: 'debug', LOG_FILE: log });
      const deadline = Date.now() + 20_000;
      while (!(existsSync(log) && /WRONGPASS/.test(readFileSync(log, 'utf8'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await stopFleet(p)).toBe(0);
      expect(readFileSync(log, 'utf8')).toMatch(/WRONGPASS/);
      outputs.push(p.stdout(), p.stderr());
    }
    const text = everything(outputs, logDir);
    expect(text).toContain('WRONGPASS');
    expect(text).not.toContain(PASSWORD);
  }, 90_000);

  it('TLS: rediss:// to a closed port exits 1, a certificate the client does not trust exits 2; neither prints the password', async () => {
    const mosaic = await writeStackMosaic(join(root, 'stack-tls'), 1, 1, 300, 300);
    writePerPixelModel(join(root, 'model-tls'), 3);
    const logDir = join(root, 'logs-tls');
    mkdirSync(logDir);
    const args = ['--stack', mosaic.dir, '--model', join(root, 'model-tls'), '--out', join(root, 'out-tls')];
    const closed = await freePort();
    const outputs: string[] = [];
    for (const command of ['run', 'enqueue']) {
      const down = await runFleet([command, ...args], { REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${closed}`, LOG_LEVEL: 'debug', LOG_FILE: join(logDir, `${command}-down.log`), TMPDIR: root });
      expect([down.code, down.stderr]).toEqual([1, `fleet ${command}: cannot reach Redis at rediss://:redacted@127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}; check REDIS_URL\n`]);
      // no NODE_EXTRA_CA_CERTS: the server's self-signed certificate is not trusted
      const untrusted = await runFleet([command, ...args], { REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`, LOG_LEVEL: 'debug', LOG_FILE: join(logDir, `${command}-cert.log`), TMPDIR: root });
      expect(untrusted.code).toBe(2);
      expect(untrusted.stderr).toMatch(new RegExp(`^fleet ${command}: Redis at rediss://:redacted@127\\.0\\.0\\.1:${tlsPort} refused the connection: .*(self[- ]signed|certificate).*; check REDIS_URL\n$`));
      outputs.push(down.stdout, down.stderr, untrusted.stdout, untrusted.stderr);
    }
    const status = await runFleet(['status', 'run-none'], { REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`, LOG_LEVEL: 'debug' });
    expect(status.code).toBe(1);
    outputs.push(status.stdout, status.stderr);
    expect(everything(outputs, logDir)).not.toContain(PASSWORD);
  }, 90_000);
});
