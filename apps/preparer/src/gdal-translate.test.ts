import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertGdalTranslate, cogTranslateArgs, GdalMissingError, GdalTranslateError, lastLine, runGdalTranslate } from './gdal-translate';

describe('cogTranslateArgs', () => {
  it('asks for a DEFLATE COG in 512 px tiles with the source version in its metadata', () => {
    const args = cogTranslateArgs('/in/a.jp2', '/tmp/a.tif', { threads: 3, metadata: { FLEET_SOURCE_VERSION: 'abc-12' } });
    expect(args.slice(0, 3)).toEqual(['-q', '-of', 'COG']);
    const creation = args.flatMap((a, i) => (args[i - 1] === '-co' ? [a] : []));
    expect(creation).toEqual(['COMPRESS=DEFLATE', 'PREDICTOR=YES', 'BLOCKSIZE=512', 'BIGTIFF=IF_SAFER', 'NUM_THREADS=3']);
    expect(args).toEqual(expect.arrayContaining(['--config', 'GDAL_NUM_THREADS', '3', '-mo', 'FLEET_SOURCE_VERSION=abc-12']));
    expect(args.slice(-2)).toEqual(['/in/a.jp2', '/tmp/a.tif']);
  });
});

describe('lastLine', () => {
  it("keeps GDAL's final error rather than the warnings before it", () => {
    expect(lastLine('Warning 1: odd\nERROR 4: a.jp2: not recognized\n\n')).toBe('ERROR 4: a.jp2: not recognized');
    expect(lastLine('  \n')).toBe('(no message)');
  });
});

describe('running gdal_translate', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'gdal-translate-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing executable with the apt-get command', async () => {
    await expect(assertGdalTranslate(join(dir, 'no-such-gdal_translate'))).rejects.toThrow(GdalMissingError);
    await expect(runGdalTranslate(['x', 'y'], 'x', join(dir, 'no-such-gdal_translate'))).rejects.toThrow(/apt-get install gdal-bin/);
  });

  it('accepts the installed gdal_translate', async () => {
    await expect(assertGdalTranslate()).resolves.toBeUndefined();
  });

  it("fails permanently on a corrupt .jp2, naming it and quoting GDAL's error", async () => {
    const input = join(dir, 'corrupt.jp2');
    writeFileSync(input, Buffer.from('this is not JPEG 2000 at all'));
    const err = await runGdalTranslate(cogTranslateArgs(input, join(dir, 'out.tif'), { threads: 1, metadata: {} }), 's3://b/corrupt.jp2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GdalTranslateError);
    expect((err as GdalTranslateError).permanent).toBe(true);
    expect((err as Error).message).toMatch(/^s3:\/\/b\/corrupt\.jp2: gdal_translate failed: ERROR \d+: .+/);
  });
});
