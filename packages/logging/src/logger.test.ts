import pino from 'pino';
import { Writable } from 'node:stream';
import { createLogger, rootLoggerOptions } from './logger';
import { redactUrl } from './redact-url';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('redacts credentials wherever they sit and tags the component', () => {
    const out = capture();
    const log = createLogger('worker', pino(rootLoggerOptions('info'), out.stream));
    log.info({ s3: { accessKeyId: 'AKIA123', secretAccessKey: 'shh' }, password: 'p', runId: 'r1' }, 'configured');
    const [line] = out.lines();
    expect(line).toMatchObject({ component: 'worker', runId: 'r1', password: '[redacted]', msg: 'configured' });
    expect(line!.s3).toEqual({ accessKeyId: '[redacted]', secretAccessKey: '[redacted]' });
    expect(JSON.stringify(line)).not.toMatch(/AKIA123|shh/);
  });

  it("blanks the arguments of ioredis's failed command (AUTH's are the password) in a logged error", () => {
    const out = capture();
    const log = createLogger('cli', pino(rootLoggerOptions('info'), out.stream));
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['default', 'hunter2'] } });
    log.error({ err }, 'redis error');
    const [line] = out.lines();
    expect(line).toMatchObject({ err: { message: 'WRONGPASS invalid username-password pair', command: { name: 'auth', args: '[redacted]' } } });
    expect(JSON.stringify(line)).not.toContain('hunter2');
  });

  it('hides the password of a URL', () => {
    expect(redactUrl('redis://:hunter2@127.0.0.1:6379/0')).toBe('redis://:redacted@127.0.0.1:6379/0');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
