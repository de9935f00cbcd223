import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notify, notifyTarget, type FiringSummary } from './notify';

const summary: FiringSummary = {
  schedule: '92',
  runId: 'run-abc',
  state: 'ok',
  windows: { total: 16, done: 16, skipped: 0, failed: 0, pending: 0 },
  blocks: { total: 4, merged: 4 },
  durationS: 12.5,
  output: 's3://maps/92',
  message: 'map complete',
  firedAt: '2026-01-01T00:30:00.000Z',
  finishedAt: '2026-01-01T00:30:12.500Z',
};

function recordingLog() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A local webhook that answers the statuses in `answers` in turn (then 204) and keeps the bodies. */
async function webhook(answers: number[]): Promise<{ server: Server; url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      bodies.push({ method: req.method, type: req.headers['content-type'], json: JSON.parse(body) });
      res.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/T0KEN?key=s3cret`, bodies };
}

describe('notify', () => {
  it('POSTs the summary as JSON, retrying a 5xx answer', async () => {
    const hook = await webhook([503, 500]);
    const { lines, log } = recordingLog();
    try {
      expect(await notify(hook.url, summary, log, { firstDelayMs: 10 })).toBe(true);
    } finally {
      hook.server.close();
    }
    expect(hook.bodies).toEqual([1, 2, 3].map(() => ({ method: 'POST', type: 'application/json', json: summary })));
    expect(lines.map((l) => [l.level, l.msg, l.obj.err ?? null])).toEqual([
      ['warn', 'notification not delivered: retrying', 'HTTP 503'],
      ['warn', 'notification not delivered: retrying', 'HTTP 500'],
      ['info', 'notification sent', null],
    ]);
    // the webhook's path and query (its secret) never reach the logs
    expect(JSON.stringify(lines)).not.toMatch(/T0KEN|s3cret/);
  });

  it('gives up after its attempts without throwing when nobody listens', async () => {
    const hook = await webhook([]);
    const url = hook.url;
    await new Promise((r) => hook.server.close(r)); // the port is free now: connections are refused
    const { lines, log } = recordingLog();
    expect(await notify(url, summary, log, { attempts: 3, firstDelayMs: 10 })).toBe(false);
    expect(lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
      'warn notification not delivered: retrying',
      'warn notification not delivered: retrying',
      'error notification not delivered: giving up',
    ]);
    expect(String(lines[2]!.obj.err)).toMatch(/ECONNREFUSED/);
    expect(lines[2]!.obj.target).toBe(notifyTarget(url));
  });

  it('logs only the origin of the URL', () => {
    expect(notifyTarget('https://hooks.example.com/services/T0/B1/secret?x=1')).toBe('https://hooks.example.com');
  });
});
