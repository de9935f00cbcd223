import { chromium, type Browser } from 'playwright-core';
import { FleetQueues, QUEUES } from '../../packages/jobs/src';
import { createRedisConnection, startPrivateRedis, type PrivateRedis } from '../../packages/redis/src';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';

/** Debian's chromium (`.ci/run` installs it): playwright-core drives it, no browser download. */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'board-browser-test-token-0123';
const PREFIX = 'board-e2e';
const SCREENSHOT = '/tmp/fleet-board.png';

/** The URL `fleet board` prints once it listens. */
async function boardUrl(p: FleetProcess): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /^fleet board: (http:\/\/\S+) /m.exec(p.stdout());
    if (m) return m[1]!;
    if (Date.now() > deadline || p.child.exitCode !== null) throw new Error(`fleet board did not start:\n${p.stdout()}\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fleet board in a real browser', () => {
  let redis: PrivateRedis;
  let board: FleetProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const connection = createRedisConnection(redis.url);
    const queues = new FleetQueues(connection, PREFIX);
    await queues.addGroups('run-a', [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 0 }]);
    await queues.add('merge-block', { runId: 'run-a', blockId: 'D-0-0' }, 'merge-run-a-D-0-0');
    await queues.close();
    connection.disconnect();
  });

  afterAll(async () => {
    await browser?.close();
    if (board) await stopFleet(board);
    await redis.stop();
  });

  it('refuses to listen beyond loopback without a token, in one line, exit 2', async () => {
    const env = { REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: PREFIX };
    expect(await runFleet(['board', '--host', '0.0.0.0', '--port', '0'], env)).toEqual({
      code: 2, stdout: '', stderr: 'fleet board: refusing to listen on 0.0.0.0 without FLEET_BOARD_TOKEN: set it (>= 16 characters) or listen on 127.0.0.1\n',
    });
    expect(await runFleet(['board', '--port', '0'], { ...env, FLEET_BOARD_TOKEN: 'short' })).toMatchObject({ code: 2, stderr: 'fleet board: invalid environment: FLEET_BOARD_TOKEN: at least 16 characters (e.g. openssl rand -hex 24)\n' });
    expect(await runFleet(['board', '--port', 'http'], env)).toMatchObject({ code: 2, stderr: 'fleet board: --port http: expected a port number 0-65535\n' });
  });

  it('asks for the token, then shows every fleet queue with no console error', async () => {
    board = startFleet(['board', '--port', '0'], { REDIS_URL: redis.url, FLEET_QUEUE_PREFIX: PREFIX, FLEET_BOARD_TOKEN: TOKEN });
    const url = await boardUrl(board);
    expect(board.stdout()).toBe(`fleet board: ${url} (queues under prefix ${PREFIX}, read-only, FLEET_BOARD_TOKEN required)\n`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // chromium's sandbox needs user namespaces, which root in a container does not get
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });

    // no credentials: a 401 with the basic-auth challenge, which headless chromium (no prompt)
    // turns into a failed navigation; the context's own request shows the status itself
    const anonymous = await browser.newContext();
    const anonymousPage = await anonymous.newPage();
    const statuses: number[] = [];
    anonymousPage.on('response', (r) => statuses.push(r.status()));
    await expect(anonymousPage.goto(url)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    expect(statuses).toEqual([401]);
    const refused = await anonymous.request.get(url);
    expect(refused.status()).toBe(401);
    expect(refused.headers()['www-authenticate']).toMatch(/^Basic realm="fleet board"/);
    expect((await anonymous.request.get(`${url}api/queues`, { headers: { Authorization: 'Bearer not-the-token-at-all' } })).status()).toBe(401);
    await anonymous.close();

    const context = await browser.newContext({ httpCredentials: { username: 'fleet', password: TOKEN }, viewport: { width: 1280, height: 800 } });
    // the board's page links a web font from Google: answered empty here, so the test needs
    // no network and a failed font load is not mistaken for a board error
    await context.route((u) => !u.href.startsWith(url), (route) => route.fulfill({ status: 200, contentType: 'text/css', body: '' }));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(err.message));
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    // the SPA fetches the queues and renders them: wait for every name
    for (const name of Object.values(QUEUES)) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
    // the overview's cards come with a second request: wait until it stops saying Loading
    await page.getByText('Loading...').waitFor({ state: 'hidden', timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const text = await page.locator('body').innerText();
    for (const name of Object.values(QUEUES)) expect(text).toContain(name);
    expect(errors).toEqual([]);

    // one queue's page lists its waiting jobs under their deterministic ids
    await page.goto(`${url}queue/${QUEUES.infer}?status=waiting`);
    await page.getByText('infer-group', { exact: false }).first().waitFor({ timeout: 30_000 });
    for (const id of ['run-a.g.0-0', 'run-a.g.0-1', 'run-a.g.1-0']) await page.getByText(id).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-infer.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
    await browser.close();
    browser = undefined;

    // SIGTERM: the board stops like the other long-lived parts, exit 0
    expect(await stopFleet(board)).toBe(0);
    board = undefined;
  }, 120_000);
});
