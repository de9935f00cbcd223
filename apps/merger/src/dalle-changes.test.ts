import { dalleChanges } from './dalle-changes';

describe('dalleChanges', () => {
  it('per source: changed versions, new and gone keys; unchanged sources left out', () => {
    const hash = 'a'.repeat(64);
    const previous = { modelHash: hash, dalles: { rgb: { 'a.tif': '1', 'b.tif': '1', 'c.tif': '1' }, dsm: { 'd.tif': '1' } } };
    const next = { modelHash: hash, dalles: { rgb: { 'a.tif': '1', 'b.tif': '2', 'e.tif': '1' }, dsm: { 'd.tif': '1' } } };
    expect(dalleChanges(previous, next)).toEqual({ rgb: { changed: ['b.tif'], added: ['e.tif'], removed: ['c.tif'] } });
  });
});
