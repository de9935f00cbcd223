import type { RunSpec } from '@fleet/jobs';
import { buildRunReport } from './run-report';
import { classColorMap } from './palette';

const spec = {
  runId: 'run-x',
  createdAt: '2026-11-24T10:00:00.000Z',
  mosaic: { width: 1000, height: 1000, geoTransform: [0, 0.2, 0, 0, 0, -0.2], epsg: 2154 },
  sources: [],
  model: { location: '/m', name: 'm', version: '1', classes: [{ id: 1, name: 'building', color: '#db0e9a' }, { id: 5, name: 'water', color: '#1553ae' }] },
  output: '/o',
  patch: 512,
  overlap: 128,
  topK: 2,
  blocks: [],
  windowCount: 9,
} as unknown as RunSpec;

describe('buildRunReport', () => {
  it('sums class areas in hectares, bytes per window and failures', () => {
    const report = buildRunReport(
      spec,
      { windows_done: 8, windows_failed: 1, tileBytes: 800_000, readMs: 10, inferMs: 100 },
      { 'r2-c2': 'a.tif: truncated' },
      [
        { blockId: 'b', key: 'blocks/b.tif', bytes: 10, classPixels: { '1': 250_000 }, failedWindows: 1, mergeMs: 5 },
        { blockId: 'a', key: 'blocks/a.tif', bytes: 20, classPixels: { '1': 250_000, '5': 500_000 }, failedWindows: 0, mergeMs: 7 },
      ],
      new Date('2026-11-24T10:01:00.000Z'),
    );
    // a 20 cm pixel is 0.04 m^2: 250,000 px = 1 ha
    expect(report.classes).toEqual([
      { id: 1, name: 'building', color: '#db0e9a', pixels: 500_000, hectares: 2 },
      { id: 5, name: 'water', color: '#1553ae', pixels: 500_000, hectares: 2 },
    ]);
    expect(report.blocks.map((b) => [b.id, b.incomplete, b.hectares])).toEqual([
      ['a', false, { '1': 1, '5': 2 }],
      ['b', true, { '1': 1 }],
    ]);
    expect(report.windows).toEqual({ total: 9, done: 8, skipped: 0, failed: 1, failures: [{ window: 'r2-c2', error: 'a.tif: truncated' }] });
    expect(report.bytes).toEqual({ maskTiles: 800_000, perWindow: 100_000, blocks: 30 });
    expect(report.timingsMs).toEqual({ read: 10, infer: 100, postprocess: 0, upload: 0, merge: 12 });
    expect(report.wallSeconds).toBe(60);
    expect(report.computeFactor).toBe(2.1);
    expect(report.complete).toBe(false);
  });
});

describe('classColorMap', () => {
  it('puts each class colour at its id and black elsewhere', () => {
    const map = classColorMap(spec.model.classes);
    expect(map).toHaveLength(256);
    expect(map[1]).toEqual([0xdb, 0x0e, 0x9a]);
    expect(map[5]).toEqual([0x15, 0x53, 0xae]);
    expect(map[0]).toEqual([0, 0, 0]);
  });
});
