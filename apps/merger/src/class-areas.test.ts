import type { RunSpec } from '@fleet/jobs';
import { classAreaRows, classAreasCsv, classAreasJson } from './class-areas';
import { buildRunReport } from './run-report';

const spec = {
  runId: 'run-x',
  createdAt: '2026-11-24T10:00:00.000Z',
  mosaic: { width: 1000, height: 1000, geoTransform: [0, 0.2, 0, 0, 0, -0.2], epsg: 2154 },
  model: { name: 'm', version: '1', classes: [{ id: 1, name: 'building', color: '#db0e9a' }, { id: 5, name: 'water, "open"', color: '#1553ae' }] },
  patch: 512,
  overlap: 128,
  windowCount: 4,
} as unknown as RunSpec;

const report = buildRunReport(spec, { windows_done: 4 }, {}, [
  { blockId: 'b', key: 'blocks/b.tif', bytes: 1, classPixels: { '5': 125_000 }, failedWindows: 0, mergeMs: 1 },
  { blockId: 'a', key: 'blocks/a.tif', bytes: 1, classPixels: { '1': 250_000, '5': 500_000 }, failedWindows: 1, mergeMs: 1 },
], new Date('2026-11-24T10:01:00.000Z'));

describe('class areas', () => {
  it('lists every class for every block, then the run total, from the run report', () => {
    // 20 cm pixels: 250,000 px = 1 ha
    expect(classAreaRows(report)).toEqual([
      { block: 'a', classId: 1, className: 'building', pixels: 250_000, hectares: 1 },
      { block: 'a', classId: 5, className: 'water, "open"', pixels: 500_000, hectares: 2 },
      { block: 'b', classId: 1, className: 'building', pixels: 0, hectares: 0 },
      { block: 'b', classId: 5, className: 'water, "open"', pixels: 125_000, hectares: 0.5 },
      { block: 'total', classId: 1, className: 'building', pixels: 250_000, hectares: 1 },
      { block: 'total', classId: 5, className: 'water, "open"', pixels: 625_000, hectares: 2.5 },
    ]);
  });

  it('writes CSV with a header and quoted names where needed', () => {
    const csv = classAreasCsv(classAreaRows(report));
    expect(csv.split('\n')).toEqual([
      'block,class_id,class_name,pixels,hectares',
      'a,1,building,250000,1',
      'a,5,"water, ""open""",500000,2',
      'b,1,building,0,0',
      'b,5,"water, ""open""",125000,0.5',
      'total,1,building,250000,1',
      'total,5,"water, ""open""",625000,2.5',
      '',
    ]);
  });

  it('groups the same figures by block in JSON', () => {
    const json = classAreasJson(report, classAreaRows(report)) as Record<string, unknown>;
    expect(json).toEqual({
      runId: 'run-x',
      unit: 'ha',
      pixelAreaM2: 0.04,
      blocks: [
        { id: 'a', incomplete: true, classes: [
          { classId: 1, className: 'building', pixels: 250_000, hectares: 1 },
          { classId: 5, className: 'water, "open"', pixels: 500_000, hectares: 2 },
        ] },
        { id: 'b', incomplete: false, classes: [
          { classId: 1, className: 'building', pixels: 0, hectares: 0 },
          { classId: 5, className: 'water, "open"', pixels: 125_000, hectares: 0.5 },
        ] },
      ],
      total: [
        { classId: 1, className: 'building', pixels: 250_000, hectares: 1 },
        { classId: 5, className: 'water, "open"', pixels: 625_000, hectares: 2.5 },
      ],
    });
  });
});
