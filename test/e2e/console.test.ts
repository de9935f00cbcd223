import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
import { centreColour, classAt, hexColour, launchChromium, startConsoleProcess, uniformPlace, watchedPage } from '../support/console-check';
import { runFleet, startFleet, stopFleet, type FleetProcess } from '../support/fleet-process';
import { publishedReport } from '../support/published';
import { writePerPixelModel } from '../support/model-fixture';
import { writeStackMosaic } from '../support/mosaic-fixture';
import { testRedisUrl, uniquePrefix } from '../support/redis';
import { startS3Server, type S3TestServer } from '../support/s3-server';


/** The published run's folder in a local output (current.json names it). */
function runDir(out: string): string {
  return join('runs', (JSON.parse(readFileSync(join(out, 'current.json'), 'utf8')) as { runId: string }).runId);
}

/** Every object of a local output's published map (not its _fleet/ and _work/ state), as keys. */
function publishedKeys(root: string, dir = ''): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const key = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) return key === '_fleet' || key === '_work' ? [] : publishedKeys(root, key);
    return [key];
  });
}

/** A raw GET: node's http client sends the path as given (a browser or fetch would resolve ".."). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const RUN_ID = 'console-e2e';
/** Where the main views' screenshots go when set (docs/ keeps them for the README). */
const SHOTS = process.env.FLEET_CONSOLE_SCREENSHOTS;

/**
 * `fleet console` on a small real run (2x2 dalles of 600 px, blocks of 600 px so each block COG
 * has an overview), in real Chromium: the run's block grid fills in live from Redis, the map
 * shows the palette colour of the class the COG holds at a known place at full resolution and
 * at an overview, the legend's hectares are areas.json's, files come by range requests and
 * cannot escape the output, the same works on S3, and a console open beyond loopback needs a token.
 */
describe('fleet console', () => {
  let root: string;
  let out: string;
  let browser: Browser;
  let consoleProcess: FleetProcess | undefined;
  let url: string;
  const prefix = uniquePrefix('console');
  const env = () => ({ REDIS_URL: testRedisUrl(), FLEET_QUEUE_PREFIX: prefix });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-console-'));
    out = join(root, 'out');
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    ({ fleet: consoleProcess, url } = await startConsoleProcess(['--out', out], env()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (consoleProcess) await stopFleet(consoleProcess);
    rmSync(root, { recursive: true, force: true });
  });

  it('shows a live run whose block grid reaches "merged", with no console errors', async () => {
    const mosaic = await writeStackMosaic(join(root, 'in'), 2, 2, 600, 600);
    writePerPixelModel(join(root, 'model'), 5);
    const run = startFleet(['run', '--stack', mosaic.dir, '--model', join(root, 'model'), '--out', out, '--block-size', '600', '--run-id', RUN_ID, '--workers', '1'], env());
    try {
      // the run's page exists once the coordinator has written its spec to Redis
      for (let i = 0; i < 600; i++) {
        const res = await fetch(`${url}api/runs/${RUN_ID}`);
        if (res.ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const { page, errors } = await watchedPage(browser);
      await page.goto(`${url}#/run/${RUN_ID}`);
      await page.waitForSelector('#block-grid g[data-block-id]');
      expect(await page.locator('#block-grid g[data-block-id]').count()).toBe(4);
      await page.waitForFunction(`document.querySelectorAll('#block-grid g[data-state="merged"]').length === 4`, undefined, { timeout: 120_000 });
      expect(await page.locator('#block-grid g').evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-windows-done')}/${g.getAttribute('data-windows')}`).filter((t) => t.split('/')[0] !== t.split('/')[1]))).toEqual([]);
      await page.waitForSelector('#run-summary[data-status="done"]', { timeout: 60_000 });
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'console-run.png') });

      await page.goto(`${url}#/`);
      await page.waitForSelector(`#runs tr[data-run-id="${RUN_ID}"]`);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'console-runs.png') });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      expect(await run.exited).toBe(0);
    }
  }, 240_000);

  it('draws the palette colour of the class the COG holds, at full resolution and at an overview', async () => {
    const report = publishedReport(out) as { classes: Array<{ id: number; color: string }>; blocks: Array<{ key: string }> };
    const colour = new Map(report.classes.map((c) => [c.id, hexColour(c.color)]));
    const cog = join(out, report.blocks[0]!.key);
    const fullRes = await uniformPlace(cog, 0, 4);
    const overview = await uniformPlace(cog, 1, 4, await classAt(cog));
    expect(overview.resolution).toBeCloseTo(2 * fullRes.resolution, 6);

    const { page, errors } = await watchedPage(browser);
    // 4 screen pixels per 20 cm pixel: the 9x9 square of one class covers the centre
    for (const [place, viewRes, name] of [[fullRes, fullRes.resolution / 4, 'full'], [overview, overview.resolution, 'overview']] as const) {
      await page.goto(`${url}#/map?x=${place.x}&y=${place.y}&res=${viewRes}`);
      await page.reload(); // a hash change alone keeps the previous page's map
      await page.waitForSelector('#map[data-ready="1"]', { timeout: 60_000 });
      const seen = await centreColour(page, '#map');
      const expected = colour.get(place.classId)!;
      for (let i = 0; i < 3; i++) expect(Math.abs(seen[i]! - expected[i]!)).toBeLessThanOrEqual(2);
      if (SHOTS && name === 'full') await page.screenshot({ path: join(SHOTS, 'console-map-zoom.png') });
    }
    await page.goto(`${url}#/map`);
    await page.reload();
    await page.waitForSelector('#map[data-ready="1"]', { timeout: 60_000 });
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'console-map.png') });

    // the class under the pointer: the map's centre holds the first block's... whatever is there; it names a class
    await page.mouse.move(400, 400);
    await page.waitForSelector('#pointer[data-class-id]');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it("shows areas.json's hectares in the legend", async () => {
    const areas = JSON.parse(readFileSync(join(out, runDir(out), 'areas.json'), 'utf8')) as { total: Array<{ classId: number; hectares: number }> };
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${url}#/map`);
    await page.waitForSelector('#legend li');
    const legend = await page.locator('#legend li').evaluateAll((lis) => lis.map((li) => [Number(li.getAttribute('data-class-id')), Number(li.getAttribute('data-hectares'))]));
    expect(legend).toEqual(areas.total.map((t) => [t.classId, t.hectares]));
    expect(await page.locator('#areas-chart rect').count()).toBe(areas.total.filter((t) => t.hectares > 0).length);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('serves files by range requests (206) and refuses paths out of the output', async () => {
    const key = readdirSync(join(out, runDir(out), 'blocks')).map((f) => `${runDir(out)}/blocks/${f}`)[0]!;
    const bytes = readFileSync(join(out, key));
    const ranged = await rawGet(url, `/files/${key}`, { range: 'bytes=8-23' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 8-23/${bytes.length}`);
    expect(ranged.body.equals(bytes.subarray(8, 24))).toBe(true);
    expect((await rawGet(url, `/files/${key}`, { range: `bytes=${bytes.length}-` })).status).toBe(416);
    const whole = await rawGet(url, `/files/${key}`);
    expect([whole.status, whole.body.length]).toEqual([200, bytes.length]);

    for (const path of ['/files/../run.json', '/files/blocks/../../etc/passwd', '/files/%2e%2e/x', '/files//etc/passwd', '/files/%2Fetc%2Fpasswd']) {
      const res = await rawGet(url, path);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body.toString()).toMatch(/<h1>400 Bad request<\/h1>/);
      expect(res.body.toString()).not.toMatch(/ at .*\.js:\d+/); // no stack trace
    }
    for (const path of ['/files/blocks/nope.tif', '/files/_fleet/lease.json', '/nope']) expect((await rawGet(url, path)).status).toBe(404);
    expect((await rawGet(url, '/api/runs/no-such-run')).status).toBe(404);
  }, 60_000);

  it('works on an output in S3: the map and its COGs come through the console', async () => {
    let s3: S3TestServer | undefined;
    let onS3: FleetProcess | undefined;
    const savedEnv: Record<string, string | undefined> = {};
    try {
      s3 = await startS3Server();
      await s3.bucket('maps');
      // the SDK takes credentials from the environment only (never from store options)
      for (const [name, value] of Object.entries(s3.env)) {
        savedEnv[name] = process.env[name];
        process.env[name] = value;
      }
      const store = new S3Store('s3://maps/dep', s3OptionsFromEnv());
      // the published map as the merger leaves it: current.json, the top-level files, runs/<id>/...
      const keys = publishedKeys(out);
      for (const key of keys) await store.putFile(key, join(out, key));
      await store.close();
      const started = await startConsoleProcess(['--out', 's3://maps/dep'], s3.env);
      onS3 = started.fleet;
      const key = keys.find((k) => k.endsWith('.tif'))!;
      const ranged = await rawGet(started.url, `/files/${key}`, { range: 'bytes=0-99' });
      expect([ranged.status, ranged.body.equals(readFileSync(join(out, key)).subarray(0, 100))]).toEqual([206, true]);
      expect(s3.requests.some((r) => r.range === 'bytes=0-99')).toBe(true);

      const { page, errors } = await watchedPage(browser);
      await page.goto(`${started.url}#/map`);
      await page.waitForSelector('#map[data-ready="1"]', { timeout: 60_000 });
      expect(await page.locator('#legend li[data-hectares]').count()).toBeGreaterThan(0);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      for (const [name, value] of Object.entries(savedEnv)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      if (onS3) await stopFleet(onS3);
      await s3?.stop();
    }
  }, 120_000);

  it('refuses a non-loopback host without FLEET_CONSOLE_TOKEN, and asks for the token when set', async () => {
    const refused = await runFleet(['console', '--host', '0.0.0.0', '--port', '0'], {});
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^fleet console: --host 0\.0\.0\.0 .*FLEET_CONSOLE_TOKEN/)]);
    for (const args of [['--port', 'abc'], ['--bogus']]) {
      const bad = await runFleet(['console', ...args], {});
      expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
      expect(bad.stderr).toMatch(/^fleet console: /);
    }

    let guarded: FleetProcess | undefined;
    try {
      const started = await startConsoleProcess(['--out', out], { FLEET_CONSOLE_TOKEN: 's3cret-token' });
      guarded = started.fleet;
      expect((await rawGet(started.url, '/api/runs')).status).toBe(401);
      expect((await rawGet(started.url, '/api/runs', { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await rawGet(started.url, '/api/runs', { authorization: 'Bearer s3cret-token' })).status).toBe(200);
      const first = await rawGet(started.url, '/?token=s3cret-token');
      expect(first.status).toBe(303);
      const cookie = String(first.headers['set-cookie']).split(';')[0]!;
      expect((await rawGet(started.url, `/files/current.json`, { cookie })).status).toBe(200);
    } finally {
      if (guarded) await stopFleet(guarded);
    }
  }, 60_000);
});
