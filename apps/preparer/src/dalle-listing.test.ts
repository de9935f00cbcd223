import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cogKeyFor, listDalles, versionOf } from './dalle-listing';

describe('cogKeyFor', () => {
  it('keeps the relative path and swaps the extension, any case', () => {
    expect(cogKeyFor('92/92-2024-0645-6865-LA93-0M20-E080.jp2')).toBe('92/92-2024-0645-6865-LA93-0M20-E080.tif');
    expect(cogKeyFor('A.JP2')).toBe('A.tif');
  });
});

describe('versionOf', () => {
  it('changes with the etag or the size', () => {
    expect(versionOf({ size: 10, etag: '"abc"' })).toBe('abc-10');
    expect(versionOf({ size: 10, etag: 'abc' })).not.toBe(versionOf({ size: 11, etag: 'abc' }));
    expect(versionOf({ size: 10 })).toBe('size-10');
  });
});

describe('listDalles', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dalle-listing-'));
    mkdirSync(join(dir, 'src', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'src', 'a.jp2'), 'a');
    writeFileSync(join(dir, 'src', 'nested', 'B.JP2'), 'bb');
    writeFileSync(join(dir, 'src', 'readme.txt'), 'not a dalle');
    writeFileSync(join(dir, 'src', 'c.tif'), 'not a dalle either');
    mkdirSync(join(dir, 'empty'));
    mkdirSync(join(dir, 'clash'));
    writeFileSync(join(dir, 'clash', 'a.jp2'), 'a');
    writeFileSync(join(dir, 'clash', 'a.JP2'), 'A');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the .jp2 files of a folder tree, and only those', async () => {
    const { store, dalles } = await listDalles(join(dir, 'src'));
    expect(store.location).toBe(join(dir, 'src'));
    expect(dalles.map((d) => [d.sourceKey, d.outputKey])).toEqual([
      ['a.jp2', 'a.tif'],
      ['nested/B.JP2', 'nested/B.tif'],
    ]);
    expect(dalles[1]!.sourceVersion).toMatch(/-2$/);
  });

  it('takes one file as a source of one dalle, in its folder', async () => {
    const { store, dalles } = await listDalles(join(dir, 'src', 'nested', 'B.JP2'));
    expect(store.location).toBe(join(dir, 'src', 'nested'));
    expect(dalles.map((d) => d.sourceKey)).toEqual(['B.JP2']);
  });

  it('rejects a folder without dalles, naming it', async () => {
    await expect(listDalles(join(dir, 'empty'))).rejects.toThrow(`${join(dir, 'empty')}: no .jp2 dalle found`);
  });

  it('rejects two dalles that would make the same COG', async () => {
    await expect(listDalles(join(dir, 'clash'))).rejects.toThrow(`${join(dir, 'clash')}: a.JP2 and a.jp2 would both become a.tif`);
  });
});
