import { PassThrough } from 'node:stream';
import { formatDuration, formatEta, formatRate, RunProgressBar, STALL_MS } from './progress';

const progress = (windows: number, done: number) => ({ windows, done, skipped: 0, failed: 0, blocks: 4, blocksMerged: 0 }) as never;

describe('progress formatting', () => {
  it('formats durations', () => {
    expect([0, 42, 59.6, 185, 3599, 3720, 90_000].map(formatDuration)).toEqual(['0s', '42s', '1m00s', '3m05s', '59m59s', '1h02m', '25h00m']);
    expect([Infinity, NaN, -1].map(formatDuration)).toEqual(['--', '--', '--']);
  });

  it('shows -- until a rate is known and while stalled, never NF, INF, NaN or Infinity', () => {
    expect(formatEta(100, 0, false)).toBe('--');
    expect(formatEta(100, NaN, false)).toBe('--');
    expect(formatEta(100, Infinity, false)).toBe('--');
    expect(formatEta(100, 2, true)).toBe('--');
    expect(formatEta(100, 2, false)).toBe('50s');
    expect(formatEta(0, 0, true)).toBe('0s');
    expect([0, NaN, Infinity, 2.25].map(formatRate)).toEqual(['--', '--', '--', '2.3']);
  });

  it('the bar: -- before the first window, an ETA from the rate, -- again when nothing moves for STALL_MS', () => {
    let now = 1_000_000;
    const bar = new RunProgressBar(new PassThrough() as unknown as NodeJS.WriteStream, () => now);
    expect(bar.payload(progress(100, 0))).toMatchObject({ rate: '--', eta_text: '--' });
    now += 10_000;
    expect(bar.payload(progress(100, 0))).toMatchObject({ rate: '--', eta_text: '--' });
    now += 10_000;
    expect(bar.payload(progress(100, 20))).toMatchObject({ finished: 20, rate: '1.0', eta_text: '1m20s' });
    now += STALL_MS + 1;
    expect(bar.payload(progress(100, 20)).eta_text).toBe('--');
    now += 1_000;
    expect(bar.payload(progress(100, 21)).eta_text).not.toBe('--');
  });

  it('writes no NF/INF/NaN/Infinity to the stream', () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => (text += String(d)));
    const bar = new RunProgressBar(stream as unknown as NodeJS.WriteStream);
    bar.update(progress(10, 0));
    bar.update(progress(10, 0));
    bar.stop();
    expect(text).toMatch(/ETA -- /);
    expect(text).not.toMatch(/NF|NaN|Infinity|INF/);
  });
});
