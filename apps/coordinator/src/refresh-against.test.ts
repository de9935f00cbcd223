import type { RunSpec } from '@fleet/jobs';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { dalleFootprint, originOffset, refreshAgainst } from './refresh-against';

const MODEL = 'a'.repeat(64);

/** 3 x 3 stack dalles of 1000 px (D-col-row), one block each; `firstCol` -1 adds a column on the west. */
function spec(runId: string, options: { versions?: Record<string, string>; modelHash?: string; firstCol?: number; cols?: number } = {}): RunSpec {
  const cols = options.cols ?? 3;
  const firstCol = options.firstCol ?? 0;
  const dalles = [];
  const blocks = [];
  const versions: Record<string, string> = {};
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < 3; r++) {
      const id = `D-${c + firstCol}-${r}`;
      dalles.push({ uri: `${id}.tif`, x: c * 1000, y: r * 1000, width: 1000, height: 1000, bands: 5 });
      blocks.push({ id, x: c * 1000, y: r * 1000, width: 1000, height: 1000 });
      versions[`${id}.tif`] = options.versions?.[id] ?? 'v1';
    }
  }
  const base = syntheticRunSpec({ runId, width: cols * 1000, height: 3000, blocks, geoTransform: [600000 + firstCol * 200, 0.2, 0, 6800000, 0, -0.2] });
  return { ...base, sources: [{ role: 'stack', location: '/data', dalles }], inputs: { modelHash: options.modelHash ?? MODEL, dalles: { stack: versions } } };
}

describe('refreshAgainst: two run specs of the same output', () => {
  it('nothing changed: nothing to re-infer, every block carried over', () => {
    const { plan, everythingBecause } = refreshAgainst(spec('run-a'), spec('run-b'));
    expect(everythingBecause).toBeUndefined();
    expect([plan.reinfer.length, plan.remerge.size, plan.carried.length]).toEqual([0, 0, 9]);
  });

  it('the centre dalle re-delivered: 36 of 64 windows (the 16 touching it and a ring), like the grid rule says', () => {
    const { plan } = refreshAgainst(spec('run-a'), spec('run-b', { versions: { 'D-1-1': 'v2' } }));
    expect(plan.dalles.changed.map((d) => `${d.source}/${d.uri}`)).toEqual(['stack/D-1-1.tif']);
    expect(plan.reinfer).toHaveLength(36);
  });

  it('the model bytes changed (same name and version): everything, and why', () => {
    const { plan, everythingBecause } = refreshAgainst(spec('run-a'), spec('run-b', { modelHash: 'b'.repeat(64) }));
    expect(everythingBecause).toBe('the model changed (model.onnx or model.json bytes)');
    expect([plan.reinfer.length, plan.carried.length]).toEqual([64, 0]);
  });

  it('a previous run without recorded inputs: everything', () => {
    const { inputs: _dropped, ...old } = spec('run-a');
    expect(refreshAgainst(old, spec('run-b')).everythingBecause).toBe('the previous run did not record its inputs');
  });

  it('a column added on the west moves the origin by 1000 px: the lattice shifts and every window is new', () => {
    const previous = spec('run-a');
    const next = spec('run-b', { firstCol: -1, cols: 4 });
    expect(originOffset(previous, next)).toEqual({ x: 1000, y: 0 });
    const { plan, everythingBecause } = refreshAgainst(previous, next);
    expect(everythingBecause).toBeUndefined();
    expect(plan.dalles.added.map((d) => d.uri)).toEqual(['D--1-0.tif', 'D--1-1.tif', 'D--1-2.tif']);
    expect(plan.dalles.changed).toEqual([]);
    expect(plan.reinfer).toHaveLength(11 * 8);
  });

  it('a DSM dalle on its own 1 m grid reaches one of its pixels further (bilinear sampling)', () => {
    const mosaic = { width: 500, height: 500, geoTransform: [0, 0.2, 0, 0, 0, -0.2] as const, epsg: 2154 };
    expect(dalleFootprint({ uri: 'dsm.tif', x: 10, y: 0, width: 10, height: 4, bands: 1, grid: { x: 0, y: 0, stepX: 5, stepY: 5 } }, { ...mosaic, geoTransform: [...mosaic.geoTransform] })).toEqual({ x: 45, y: 0, width: 60, height: 25 });
  });
});
