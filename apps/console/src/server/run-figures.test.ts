import { blockState, fileOfFailure, ProgressSamples, rateAndEta } from './run-figures';

describe('blockState', () => {
  const base = { windows: 4, done: 0, skipped: 0, failed: 0, pending: 4, merged: false };
  it('is waiting before any window finished, inferring after one did', () => {
    expect(blockState(base)).toBe('waiting');
    expect(blockState({ ...base, done: 1, pending: 3 })).toBe('inferring');
    expect(blockState({ ...base, done: 4, pending: 0 })).toBe('inferring');
  });
  it('is failed once windows failed and none is left, merged whatever happened before', () => {
    expect(blockState({ ...base, done: 3, failed: 1, pending: 0 })).toBe('failed');
    expect(blockState({ ...base, failed: 1, pending: 3 })).toBe('inferring');
    expect(blockState({ ...base, done: 3, failed: 1, pending: 0, merged: true })).toBe('merged');
  });
});

describe('rateAndEta', () => {
  it('measures windows per second over the samples and the time left at that rate', () => {
    expect(rateAndEta([{ atMs: 0, finished: 10 }, { atMs: 2_000, finished: 30 }], 130)).toEqual({ rate: 10, etaS: 10 });
  });
  it('says nothing from one sample or without progress, and no ETA when done', () => {
    expect(rateAndEta([{ atMs: 0, finished: 10 }], 100)).toEqual({});
    expect(rateAndEta([{ atMs: 0, finished: 10 }, { atMs: 1_000, finished: 10 }], 100)).toEqual({});
    expect(rateAndEta([{ atMs: 0, finished: 90 }, { atMs: 1_000, finished: 100 }], 100)).toEqual({ rate: 10 });
  });
  it('forgets samples older than the rate window', () => {
    const samples = new ProgressSamples();
    samples.add('r', { atMs: 0, finished: 0 });
    const kept = samples.add('r', { atMs: 31_000, finished: 100 });
    expect(kept).toEqual([{ atMs: 31_000, finished: 100 }]);
  });
});

describe('fileOfFailure', () => {
  it('finds the file a failure names', () => {
    expect(fileOfFailure('/data/in/D-0-0.tif: expected 5 bands, got 3')).toBe('/data/in/D-0-0.tif');
    expect(fileOfFailure('cannot read s3://bucket/ortho/D-1.tif (403)')).toBe('s3://bucket/ortho/D-1.tif');
    expect(fileOfFailure('model session failed')).toBeUndefined();
  });
});
