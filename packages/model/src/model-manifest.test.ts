import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FLAIR_INC_CLASSES, FLAIR_INC_MEAN, FLAIR_INC_STD } from './flair-inc';
import { colorTable, loadModelManifest, parseModelManifest, requiredLogits } from './model-manifest';
import { removeModelFolders, testManifest, writeModelFolder } from './test-model-folder';

const FLAIR_DIR = join(__dirname, '../../../models/flair-inc');

describe('models/flair-inc/model.json', () => {
  it('carries exactly the FLAIR-INC contract', async () => {
    const m = parseModelManifest(JSON.parse(await readFile(join(FLAIR_DIR, 'model.json'), 'utf8')));
    expect(m.name).toBe('FLAIR-INC_RVBIE_resnet34_unet_15cl_norm');
    expect(m.bands).toEqual(['R', 'G', 'B', 'NIR', 'E']);
    expect(m.mean).toEqual([105.08, 110.87, 101.82, 106.38, 53.26]);
    expect(m.std).toEqual([52.17, 45.38, 44.0, 39.69, 79.3]);
    // 1024 px windows: at the default 256 px overlap 1.78 inferences per pixel, and closer to
    // whole-mosaic inference than IGN's 512 px centre crops at 4 (BENCHMARKS.md "Seams").
    expect(m.patch).toBe(1024);
    expect(m.classes).toHaveLength(15);
    // logit i is FLAIR id i + 1; the switched-off logits 14, 15, 16, 18 are absent so they never win.
    expect(m.classes.map((c) => c.logit)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17]);
    for (const c of m.classes) expect(c.id).toBe(c.logit + 1);
    expect(m.classes.map((c) => c.name)).toContain('swimming pool');
    expect(requiredLogits(m)).toBe(18);
    // The constants code builds compatible models from are the same table.
    expect(m.classes).toEqual(FLAIR_INC_CLASSES);
    expect(m.mean).toEqual(FLAIR_INC_MEAN);
    expect(m.std).toEqual(FLAIR_INC_STD);

    const table = colorTable(m);
    expect(table).toHaveLength(256);
    expect(table[0]).toEqual([0, 0, 0]);
    expect(table[1]).toEqual([0xdb, 0x0e, 0x9a]);
    expect(table[5]).toEqual([0x15, 0x53, 0xae]);
    expect(table[13]).toEqual([0x3d, 0xe6, 0xeb]);
    expect(table[18]).toEqual([0x99, 0x99, 0xff]);
    expect(table[15]).toEqual([0, 0, 0]);
    expect(table[255]).toEqual([0, 0, 0]);
  });

  it('is refused by loadModelManifest while model.onnx is not exported, naming the file', async () => {
    await expect(loadModelManifest(FLAIR_DIR)).rejects.toThrow(/model\.onnx: missing/);
  });
});

afterAll(removeModelFolders);

describe('modelManifestSchema', () => {
  it('defaults patch to 512 and keeps optional tensor names', () => {
    const { patch: _patch, ...rest } = testManifest({ input: 'x' });
    const m = parseModelManifest(rest);
    expect(m.patch).toBe(512);
    expect(m.input).toBe('x');
    expect(m.output).toBeUndefined();
  });

  it.each([
    [{ mean: [1, 2, 3] }, /model\.json: mean: must have one value per band \(5\), got 3/],
    [{ std: [1, 1, 1, 0, 1] }, /model\.json: std\.3: /],
    [{ bands: ['R', 'G', 'R', 'NIR', 'E'] }, /model\.json: bands: bands must be unique/],
    [{ bands: ['R', 'G', 'B', 'NIR', 'X'] }, /model\.json: bands\.4: /],
    [{ patch: 500 }, /model\.json: patch: /],
    [{ classes: [{ logit: 0, id: 1, name: 'a', color: '#000000' }, { logit: 0, id: 2, name: 'b', color: '#000000' }] }, /classes\.1\.logit: duplicate logit 0/],
    [{ classes: [{ logit: 0, id: 3, name: 'a', color: '#000000' }, { logit: 1, id: 3, name: 'b', color: '#000000' }] }, /classes\.1\.id: duplicate id 3/],
    [{ classes: [{ logit: 0, id: 0, name: 'a', color: '#000000' }] }, /classes\.0\.id: /],
    [{ classes: [{ logit: 0, id: 1, name: 'a', color: 'red' }] }, /classes\.0\.color: must be "#rrggbb"/],
  ])('rejects %j with a message naming the field', (override, message) => {
    expect(() => parseModelManifest({ ...testManifest(), ...override })).toThrow(message);
  });

  it('names the file and field when loading a folder', async () => {
    const dir = await writeModelFolder(new Uint8Array(1), { ...testManifest(), version: 3 });
    await expect(loadModelManifest(dir)).rejects.toThrow(`${join(dir, 'model.json')}: version: `);
    const missing = await writeModelFolder(undefined, testManifest());
    await expect(loadModelManifest(missing)).rejects.toThrow(`${join(missing, 'model.onnx')}: missing`);
  });
});
