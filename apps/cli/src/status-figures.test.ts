import {
  etaSeconds,
  formatOneline,
  formatPercent,
  formatWatchPanel,
  keepSpan,
  newFailureLines,
  rateOf,
  watchExitCode,
  type StatusSnapshot,
} from './status-figures';

const idle = { wait: 0, active: 0, delayed: 0, failed: 0 };
const snapshot = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  runId: 'run-x', status: 'running', windows: 5000, done: 1200, skipped: 30, failed: 4, blocks: 9, blocksMerged: 3,
  queues: { infer: { wait: 120, active: 4, delayed: 1, failed: 2 }, merge: idle },
  ...over,
});

describe('rate over the last minutes', () => {
  it('is undefined until two samples are apart in time', () => {
    expect(rateOf([])).toBeUndefined();
    expect(rateOf([{ at: 1000, finished: 5 }])).toBeUndefined();
    expect(rateOf([{ at: 1000, finished: 5 }, { at: 1000, finished: 9 }])).toBeUndefined();
  });

  it('is windows finished over seconds between the oldest and newest sample', () => {
    expect(rateOf([{ at: 0, finished: 100 }, { at: 5_000, finished: 150 }, { at: 10_000, finished: 223 }])).toBeCloseTo(12.3, 5);
  });

  it('never goes negative when a retry hands failed windows back', () => {
    expect(rateOf([{ at: 0, finished: 100 }, { at: 10_000, finished: 90 }])).toBe(0);
  });

  it('keeps the samples of the span plus the one just before it, so the span is covered', () => {
    const samples = [0, 60, 120, 180, 240, 300, 360, 420].map((s) => ({ at: s * 1000, finished: s }));
    expect(keepSpan(samples, 300_000).map((s) => s.at / 1000)).toEqual([60, 120, 180, 240, 300, 360, 420]);
    expect(keepSpan(samples.slice(0, 3), 300_000)).toHaveLength(3);
    expect(keepSpan([], 300_000)).toEqual([]);
    // a rate over the kept span follows a slow-down rather than the whole history's mean
    const slowed = [...samples, { at: 780_000, finished: 430 }];
    expect(rateOf(keepSpan(slowed, 300_000))).toBeCloseTo((430 - 420) / 360, 5);
  });
});

describe('ETA', () => {
  it('is the windows left over the rate, 0 when none is left, undefined without a rate', () => {
    expect(etaSeconds(3770, 12.3)).toBeCloseTo(306.5, 1);
    expect(etaSeconds(0, undefined)).toBe(0);
    expect(etaSeconds(-3, 1)).toBe(0);
    expect(etaSeconds(10, undefined)).toBeUndefined();
    expect(etaSeconds(10, 0)).toBeUndefined();
    expect(etaSeconds(10, NaN)).toBeUndefined();
  });
});

describe('one line for scripts', () => {
  it('says state, windows, percent, rate, ETA, blocks and failures in a fixed order', () => {
    expect(formatOneline(snapshot(), 12.3)).toBe('run-x running 1234/5000 windows 24.7% 12.3 win/s eta 5m06s blocks 3/9 failed 4');
  });

  it('prints -- for a rate or ETA not known yet', () => {
    expect(formatOneline(snapshot({ done: 0, skipped: 0, failed: 0 }), undefined)).toBe('run-x running 0/5000 windows 0.0% -- win/s eta -- blocks 3/9 failed 0');
  });

  it('says eta 0s for a finished run whatever the rate', () => {
    expect(formatOneline(snapshot({ status: 'done', done: 4966, skipped: 30, failed: 4, blocksMerged: 9 }), undefined)).toBe(
      'run-x done 5000/5000 windows 100.0% -- win/s eta 0s blocks 9/9 failed 4',
    );
  });

  it('rounds to one decimal but never to 100% before the last window', () => {
    expect(formatPercent(9999, 10000)).toBe('99.9%');
    expect(formatPercent(99_999, 100_000)).toBe('99.9%');
    expect(formatPercent(4, 6)).toBe('66.7%');
    expect(formatPercent(0, 0)).toBe('100.0%');
  });
});

describe('watch panel', () => {
  it('shows queue depths of both queues and blocks merged', () => {
    const lines = formatWatchPanel(snapshot(), 2.5, 300_000, 5);
    expect(lines[0]).toBe('run run-x  running  (every 5s; Ctrl-C stops watching, not the run)');
    expect(lines[2]).toBe('rate     2.5 win/s over the last 5m00s   eta 25m06s');
    expect(lines[3]).toBe('blocks   3/9 merged');
    expect(lines[4]).toBe('infer    wait 120 active 4 delayed 1 failed 2   (queue, all runs)');
    expect(lines[5]).toBe('merge    wait 0 active 0 delayed 0 failed 0   (queue, all runs)');
  });
});

describe('failures as they happen', () => {
  it('reports each failure once, windows first, by first line of the message', () => {
    const seen = new Set<string>();
    expect(newFailureLines(seen, { 'r1-c2': 'corrupt tile\nstack', 'r0-c5': 'read failed' }, {})).toEqual([
      'failed: window r0-c5: read failed',
      'failed: window r1-c2: corrupt tile',
    ]);
    expect(newFailureLines(seen, { 'r1-c2': 'corrupt tile', 'r0-c5': 'read failed' }, { 'block D-0-0': 'disk full' })).toEqual([
      'failed for good: block D-0-0: disk full',
    ]);
    expect(newFailureLines(seen, { 'r1-c2': 'x' }, { 'block D-0-0': 'disk full' })).toEqual([]);
  });
});

describe('when a watch ends', () => {
  it('goes on while running, 0 when done clean, 1 when windows failed or something failed for good', () => {
    expect(watchExitCode({ status: 'running', failed: 3 })).toBeUndefined();
    expect(watchExitCode({ status: 'done', failed: 0 })).toBe(0);
    expect(watchExitCode({ status: 'done', failed: 2 })).toBe(1);
    expect(watchExitCode({ status: 'failed', failed: 0 })).toBe(1);
  });
});
