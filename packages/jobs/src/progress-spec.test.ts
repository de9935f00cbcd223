import { regularBlocks } from '@fleet/grid';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { progressSpecOf } from './progress-spec';
import { runSpecSchema } from './run-spec';

describe('progressSpecOf (the spec fields fleet status needs, checked without zod)', () => {
  const spec = syntheticRunSpec({ runId: 'ps', width: 3000, height: 2000, blocks: regularBlocks(3000, 2000, 1000), groupSide: 4 });

  it('takes from a valid run spec exactly the fields the schema gives', () => {
    const raw = JSON.stringify(spec);
    const full = runSpecSchema.parse(JSON.parse(raw));
    expect(progressSpecOf(raw, 'ps')).toEqual({
      windowCount: full.windowCount, mosaic: { width: full.mosaic.width, height: full.mosaic.height }, patch: full.patch, overlap: full.overlap,
      blocks: full.blocks, groupSide: full.groupSide, createdAt: full.createdAt,
    });
    const { groupSide: _g, createdAt: _c, ...older } = spec;
    expect(progressSpecOf(JSON.stringify(older), 'ps')).toMatchObject({ groupSide: undefined, createdAt: undefined });
  });

  it.each([
    ['not JSON', '{"windowCount": 1', /not JSON/],
    ['not an object', '[1, 2]', /not an object/],
    ['no mosaic', JSON.stringify({ ...spec, mosaic: undefined }), /mosaic missing/],
    ['no blocks', JSON.stringify({ ...spec, blocks: [] }), /blocks must be a non-empty list/],
    ['a block without an id', JSON.stringify({ ...spec, blocks: [{ x: 0, y: 0, width: 1, height: 1 }] }), /blocks\[0\]\.id missing/],
    ['a negative block x', JSON.stringify({ ...spec, blocks: [{ id: 'a', x: -1, y: 0, width: 1, height: 1 }] }), /blocks\[0\]\.x must be an integer >= 0, got -1/],
    ['a fractional windowCount', JSON.stringify({ ...spec, windowCount: 2.5 }), /windowCount must be an integer >= 1, got 2.5/],
    ['a windowCount as text', JSON.stringify({ ...spec, windowCount: '12' }), /windowCount must be an integer >= 1, got "12"/],
    ['a zero mosaic width', JSON.stringify({ ...spec, mosaic: { ...spec.mosaic, width: 0 } }), /mosaic\.width must be an integer >= 1/],
    ['no patch', JSON.stringify({ ...spec, patch: undefined }), /patch must be an integer >= 1, got undefined/],
    ['a negative overlap', JSON.stringify({ ...spec, overlap: -128 }), /overlap must be an integer >= 0/],
    ['a zero groupSide', JSON.stringify({ ...spec, groupSide: 0 }), /groupSide must be an integer >= 1/],
  ])('refuses %s, naming the run and the field', (_what, raw, message) => {
    expect(() => progressSpecOf(raw, 'ps')).toThrow(/^run ps: its spec in Redis is not a run spec: /);
    expect(() => progressSpecOf(raw, 'ps')).toThrow(message);
  });
});
