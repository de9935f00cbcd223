import { geometryOf, runSpecSchema, type RunSpec } from '@fleet/jobs';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import type { PlannedRun } from './plan-run';
import { refreshSpec, type PublishedRunBlocks } from './refresh-spec';

/** 3 x 3 stack dalles of 1000 px (D-col-row), one block each, as refresh-against.test.ts. */
function spec(runId: string, versions: Record<string, string> = {}, modelHash = 'a'.repeat(64)): RunSpec {
  const dalles = [];
  const blocks = [];
  const ids: Record<string, string> = {};
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < 3; r++) {
      const id = `D-${c}-${r}`;
      dalles.push({ uri: `${id}.tif`, x: c * 1000, y: r * 1000, width: 1000, height: 1000, bands: 5 });
      blocks.push({ id, x: c * 1000, y: r * 1000, width: 1000, height: 1000 });
      ids[`${id}.tif`] = versions[id] ?? 'v1';
    }
  }
  const base = syntheticRunSpec({ runId, width: 3000, height: 3000, blocks, geoTransform: [600000, 0.2, 0, 6800000, 0, -0.2] });
  return { ...base, sources: [{ role: 'stack', location: '/data', dalles }], inputs: { modelHash, dalles: { stack: ids } } };
}

function planned(s: RunSpec): PlannedRun {
  const geometry = geometryOf(s);
  return { spec: { ...s, windowCount: geometry.inferableCount }, plan: geometry.plan, manifest: {} as PlannedRun['manifest'], windowsPerBlock: geometry.windowsPerBlock(), geometry };
}

function published(runId: string, change: Partial<PublishedRunBlocks['blocks'][number]> = {}): PublishedRunBlocks {
  return {
    runId,
    complete: true,
    blocks: spec(runId).blocks.map((b) => ({ id: b.id, key: `blocks/${b.id}.tif`, bytes: 100, incomplete: false, failedWindows: 0, pixels: { '1': 5 }, ...(b.id === 'D-0-0' ? change : {}) })),
  };
}

describe('refreshSpec', () => {
  it('a corner dalle re-delivered: the spec carries the refresh, windowCount and the countdowns are the re-inferred windows', () => {
    const decision = refreshSpec(planned(spec('run-b', { 'D-0-0': 'v2' })), spec('run-a'), published('run-a'));
    expect('refresh' in decision).toBe(true);
    if (!('refresh' in decision)) return;
    const { spec: next, windowsPerBlock } = decision.planned;
    expect(runSpecSchema.parse(next)).toEqual(next);
    expect(next.windowCount).toBeGreaterThan(0);
    expect(next.windowCount).toBeLessThan(64);
    expect(next.refresh!.carriedWindows).toBe(64 - next.windowCount);
    expect(next.refresh!.remerge.map((r) => r.blockId).sort()).toEqual([...windowsPerBlock.keys()].sort());
    expect(next.refresh!.remerge.find((r) => r.blockId === 'D-0-0')).toEqual({ blockId: 'D-0-0', waits: windowsPerBlock.get('D-0-0'), previousKey: 'blocks/D-0-0.tif' });
    expect(windowsPerBlock.get('D-0-0')).toBe(decision.planned.geometry.windowsOfBlock(next.blocks[0]!).length);
    // the far corner is not reached: carried over with the previous file and figures
    expect(next.refresh!.carried).toEqual(expect.arrayContaining([{ blockId: 'D-2-2', key: 'blocks/D-2-2.tif', bytes: 100, classPixels: { '1': 5 } }]));
    // compact: the spec names rectangles and blocks, never windows
    expect(JSON.stringify(next.refresh).length).toBeLessThan(2000);
  });

  it.each<[string, () => ReturnType<typeof refreshSpec>, string]>([
    ['the model bytes changed', () => refreshSpec(planned(spec('run-b', {}, 'b'.repeat(64))), spec('run-a'), published('run-a')), 'the model changed (model.onnx or model.json bytes)'],
    ['the published run is incomplete', () => refreshSpec(planned(spec('run-b', { 'D-1-1': 'v2' })), spec('run-a'), { ...published('run-a'), complete: false }), 'the published run run-a is not complete'],
    ['the kept spec is another run', () => refreshSpec(planned(spec('run-b', { 'D-1-1': 'v2' })), spec('run-x'), published('run-a')), 'the kept spec is run run-x, the published run is run-a'],
    ['nothing meets a block', () => refreshSpec(planned(spec('run-b')), spec('run-a'), published('run-a')), 'no block meets the changed pixels'],
    ['a published block has failed windows', () => refreshSpec(planned(spec('run-b', { 'D-1-1': 'v2' })), spec('run-a'), published('run-a', { failedWindows: 2 })), 'block D-0-0 of the published run has failed windows'],
    ['a carried block has no published file', () => refreshSpec(planned(spec('run-b', { 'D-0-0': 'v2' })), spec('run-a'), { ...published('run-a'), blocks: published('run-a').blocks.filter((b) => b.id !== 'D-2-2') }), 'block D-2-2 is carried over but the published run has no file for it'],
  ])('falls back to a full run, saying why: %s', (_name, decide, why) => {
    const decision = decide();
    expect(decision).toMatchObject({ fullBecause: why });
    expect(decision.planned.spec.refresh).toBeUndefined();
  });
});
