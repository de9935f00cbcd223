import { createLogger } from '@fleet/logging';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gdalInfo, writeJp2Dalle } from '../../../test/support/jp2-fixture';
import { prepareDalle, SourceMissingError } from './prepare-dalle';

/** The job body on local folders with the real gdal_translate: convert, skip, redo, fail. */
describe('prepareDalle', () => {
  let root: string;
  const log = createLogger('prepare-dalle-test');
  log.level = 'silent';
  const payload = () => ({ source: join(root, 'src'), sourceKey: 'd/a.jp2', sourceVersion: 'as-listed', output: join(root, 'out'), outputKey: 'd/a.tif' });
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'prepare-dalle-'));
    await writeJp2Dalle(join(root, 'src', 'd', 'a.jp2'), { x: 645_000, y: 6_865_000, size: 128 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('converts, then skips while the source is unchanged, then redoes it once touched', async () => {
    const first = await prepareDalle(payload(), { threads: 1 }, log);
    expect(first.status).toBe('converted');
    expect(first.bytes).toBeGreaterThan(0);
    const cog = gdalInfo(join(root, 'out', 'd', 'a.tif'));
    expect([cog.layout, cog.size, cog.metadata.FLEET_SOURCE_VERSION]).toEqual(['COG', [128, 128], first.sourceVersion]);
    expect(JSON.parse(readFileSync(join(root, 'out', 'd', 'a.tif.fleet-source.json'), 'utf8')).sourceVersion).toBe(first.sourceVersion);

    expect((await prepareDalle(payload(), { threads: 1 }, log)).status).toBe('skipped');

    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'src', 'd', 'a.jp2'), later, later);
    const redone = await prepareDalle(payload(), { threads: 1 }, log);
    expect(redone.status).toBe('converted');
    expect(redone.sourceVersion).not.toBe(first.sourceVersion);
    expect(gdalInfo(join(root, 'out', 'd', 'a.tif')).metadata.FLEET_SOURCE_VERSION).toBe(redone.sourceVersion);
  });

  it('fails permanently when the dalle has gone', async () => {
    const err = await prepareDalle({ ...payload(), sourceKey: 'd/gone.jp2', outputKey: 'd/gone.tif' }, { threads: 1 }, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceMissingError);
    expect((err as SourceMissingError).permanent).toBe(true);
    expect((err as Error).message).toBe(`${join(root, 'src')}/d/gone.jp2: source dalle not found`);
  });

  it('leaves no COG behind for a corrupt dalle', async () => {
    writeFileSync(join(root, 'src', 'bad.jp2'), 'not JPEG 2000');
    const err = await prepareDalle({ ...payload(), sourceKey: 'bad.jp2', outputKey: 'bad.tif' }, { threads: 1 }, log).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/bad\.jp2: gdal_translate failed: ERROR 4: .*not recognized/);
    expect(() => readFileSync(join(root, 'out', 'bad.tif'))).toThrow(/ENOENT/);
  });
});
