/**
 * Schedules that live with the fleet, with real processes: `fleet schedule add` registers a
 * refresh firing every second, `fleet scheduler` fires it (the run is enqueued as `fleet
 * enqueue` does and done by a real `fleet worker` and `fleet merger`), follows it to the end
 * and POSTs its summary to a local HTTP server; a schedule pointing at a missing model posts a
 * failure; a firing while the previous run still goes is skipped; `list` shows both
 * schedules' last runs, `remove` removes them; SIGTERM stops the scheduler with exit 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { FleetSchedules } from '../../packages/jobs/src';
import { Fleet, fleetEnv, logLines, prepareFixture, runArgs, sleep, WINDOWS, type Fixture } from '../faults/fleet-harness';
import { runFleet, startFleet } from '../support/fleet-process';
import { testRedisUrl, uniquePrefix } from '../support/redis';

interface Summary {
  schedule: string;
  runId: string | null;
  state: 'ok' | 'failed';
  windows: { total: number; done: number; skipped: number; failed: number; pending: number } | null;
  blocks: { total: number; merged: number } | null;
  durationS: number;
  output: string;
  message: string;
}

/** A webhook receiver: records every POSTed JSON body; answers 503 to the first one (the scheduler must retry). */
async function startReceiver(): Promise<{ server: Server; url: string; received: Summary[]; refused: number }> {
  const receiver = { received: [] as Summary[], refused: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') {
        res.writeHead(400).end();
        return;
      }
      if (receiver.refused === 0) {
        receiver.refused++;
        res.writeHead(503).end();
        return;
      }
      receiver.received.push(JSON.parse(body) as Summary);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { server, url: `http://127.0.0.1:${port}/hooks/secret-token` });
}

describe('fleet schedule and fleet scheduler', () => {
  let fx: Fixture;
  let fleet: Fleet | undefined;
  let second: Fleet | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    fx = await prepareFixture('schedule');
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await fleet?.close();
    await second?.close();
    await new Promise((r) => receiver.server.close(r));
    rmSync(fx.root, { recursive: true, force: true });
  });

  it('fires a refresh, notifies its success and a failed night, lists and removes them', async () => {
    const env = fleetEnv(testRedisUrl(), uniquePrefix('schedule'), { FLEET_NOTIFY_URL: receiver.url, FLEET_SCHEDULE_POLL_MS: '200' });
    const logDir = join(fx.root, 'logs');
    mkdirSync(logDir);
    fleet = new Fleet(env, logDir);
    const out = join(fx.root, 'out');
    const every = ['--cron', '*/1 * * * * *'];

    const added = await runFleet(['schedule', 'add', 'd92', ...every, '--tz', 'Europe/Paris', ...runArgs(fx, out)], env);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ schedule: 'd92', cron: '*/1 * * * * *', tz: 'Europe/Paris', replaced: false, request: { output: out } });
    const broken = await runFleet(['schedule', 'add', 'broken', ...every, '--stack', fx.mosaic.dir, '--model', join(fx.root, 'no-model'), '--out', join(fx.root, 'out-broken')], env);
    expect(broken.code).toBe(0);

    const scheduler = startFleet(['scheduler'], { ...env, LOG_FILE: join(logDir, 'scheduler-1.log') });
    fleet.procs.push(scheduler);
    fleet.start('worker');
    fleet.start('merger');

    const deadline = Date.now() + 150_000;
    const got = (schedule: string) => receiver.received.find((s) => s.schedule === schedule);
    while (!(got('d92') && got('broken'))) {
      if (Date.now() > deadline) throw new Error(`no notifications: ${JSON.stringify(receiver.received)}\n${scheduler.stderr()}`);
      await sleep(100);
    }
    // the first POST was answered 503: it was tried again, not lost
    expect(receiver.refused).toBe(1);

    const ok = got('d92')!;
    expect(ok).toMatchObject({ state: 'ok', output: out, windows: { total: WINDOWS, done: WINDOWS, failed: 0, pending: 0 }, blocks: { total: 4, merged: 4 } });
    expect(ok.runId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(ok.message).toMatch(/map complete: 16 window\(s\) inferred/);
    expect(ok.durationS).toBeGreaterThan(0);
    expect(await fleet.state(ok.runId!).progress()).toMatchObject({ status: 'done', done: WINDOWS, failed: 0 });

    const failed = got('broken')!;
    expect(failed).toMatchObject({ state: 'failed', runId: null, windows: null });
    expect(failed.message).toContain(join(fx.root, 'no-model'));

    // every second fired while the first run went on: those firings were skipped, not run twice
    const skipped = logLines(logDir, 'scheduler').filter((l) => l.msg === 'schedule fired while its previous run is still going: firing skipped' && l.schedule === 'd92');
    expect(skipped.length).toBeGreaterThan(0);
    const okRuns = new Set(receiver.received.filter((s) => s.schedule === 'd92').map((s) => s.runId));
    expect([...okRuns]).toEqual([ok.runId]);
    // the webhook's path (its secret) is not logged
    expect(JSON.stringify(logLines(logDir, 'scheduler'))).not.toContain('secret-token');

    const list = await runFleet(['schedule', 'list', '--json'], env);
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout) as Array<{ name: string; cron: string; tz?: string; next?: number; last?: { runId?: string; state: string } }>;
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(['broken', 'd92']);
    expect(byName.get('d92')).toMatchObject({ cron: '*/1 * * * * *', tz: 'Europe/Paris' });
    expect(byName.get('d92')!.next).toBeGreaterThan(Date.now() - 5_000);
    // the latest firing of d92 found the run already complete (same inputs, same run id)
    expect(byName.get('d92')!.last).toMatchObject({ runId: ok.runId });
    expect(byName.get('broken')!.last).toMatchObject({ state: 'failed' });
    const table = await runFleet(['schedule', 'list'], env);
    expect(table.stdout).toMatch(/^NAME\s+CRON\s+TZ\s+NEXT RUN\s+LAST RUN\s+STATE/);
    expect(table.stdout).toMatch(new RegExp(`d92\\s+\\*/1 \\* \\* \\* \\* \\*\\s+Europe/Paris\\s+\\S+\\s+${ok.runId}`));

    for (const name of ['d92', 'broken']) {
      const removed = await runFleet(['schedule', 'remove', name], env);
      expect([removed.code, removed.stdout]).toEqual([0, `removed schedule ${name}\n`]);
    }
    expect(JSON.parse((await runFleet(['schedule', 'list', '--json'], env)).stdout)).toEqual([]);
    const schedules = new FleetSchedules(fleet.connection, fleet.connection, env.FLEET_QUEUE_PREFIX!);
    expect(await schedules.queue.getJobSchedulersCount()).toBe(0);
    await schedules.close();
    const again = await runFleet(['schedule', 'remove', 'd92'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no schedule "d92"/);

    // SIGTERM: every part, the scheduler included, stops cleanly
    expect(await fleet.stopAll()).toEqual([0, 0, 0]);
  }, 200_000);

  it('a scheduler stopped by SIGTERM hands its firing back; the next one follows the same run to the end', async () => {
    const env = fleetEnv(testRedisUrl(), uniquePrefix('schedule-takeover'), { FLEET_NOTIFY_URL: receiver.url, FLEET_SCHEDULE_POLL_MS: '200' });
    const logDir = join(fx.root, 'logs-takeover');
    mkdirSync(logDir);
    second = new Fleet(env, logDir);
    const out = join(fx.root, 'out-takeover');
    // every 2 s: the firings during the run are skipped (the handed-back firing keeps the claim)
    const added = await runFleet(['schedule', 'add', 'takeover', '--cron', '*/2 * * * * *', ...runArgs(fx, out)], env);
    expect(added.code).toBe(0);

    // no worker yet: the run is enqueued and waits, its firing follows it
    const first = startFleet(['scheduler'], { ...env, LOG_FILE: join(logDir, 'scheduler-1.log') });
    second.procs.push(first);
    const schedules = new FleetSchedules(second.connection, second.connection, env.FLEET_QUEUE_PREFIX!);
    try {
      const deadline = Date.now() + 90_000;
      let last = await schedules.lastRun('takeover');
      while (!last?.runId) {
        if (Date.now() > deadline) throw new Error(`the firing did not enqueue its run\n${first.stderr()}`);
        await sleep(100);
        last = await schedules.lastRun('takeover');
      }
      expect(last.state).toBe('running');
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      // handed back, not finished: the claim and the record still name the firing
      expect(await schedules.lastRun('takeover')).toEqual(last);
      const handedBack = logLines(logDir, 'scheduler').filter((l) => l.msg === 'scheduler stopping: firing handed back, another scheduler follows the run');
      expect(handedBack.map((l) => l.runId)).toEqual([last.runId]);

      second.procs.push(startFleet(['scheduler'], { ...env, LOG_FILE: join(logDir, 'scheduler-2.log') }));
      second.start('worker');
      second.start('merger');
      const notified = () => receiver.received.find((r) => r.schedule === 'takeover');
      while (!notified()) {
        if (Date.now() > deadline + 90_000) throw new Error(`no notification after the takeover\n${second.procs.map((p) => p.stderr()).join('\n')}`);
        await sleep(100);
      }
      expect(notified()).toMatchObject({ state: 'ok', runId: last.runId, windows: { done: WINDOWS, failed: 0 } });
      // the same firing (its fired time and run), not a new one
      expect(notified()!.durationS).toBeGreaterThan(0);
      const takenOver = readFileSync(join(logDir, 'scheduler-2.log'), 'utf8');
      expect(takenOver).toContain('firing taken over: following its run');
      expect(await schedules.lastRun('takeover')).toMatchObject({ runId: last.runId, state: 'ok', firedAt: last.firedAt, firingId: last.firingId });
      expect((await runFleet(['schedule', 'remove', 'takeover'], env)).code).toBe(0);
    } finally {
      await schedules.close();
    }
    expect(await second.stopAll()).toEqual([0, 0, 0, 0]);
  }, 240_000);
});
