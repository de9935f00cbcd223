import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store, s3OptionsFromEnv } from '../../packages/storage/src';
import { runFleet } from '../support/fleet-process';
import { differingPixels, gdalInfo, writeJp2Dalle } from '../support/jp2-fixture';
import { startS3Server, type S3TestServer } from '../support/s3-server';

/**
 * `fleet prepare` from an s3:// prefix to another, on a real S3 server (s3rver over HTTP):
 * the preparer fetches each dalle to a temp file, converts it and uploads the COG; a second
 * run finds every COG's record and converts nothing.
 */
describe('fleet prepare on S3', () => {
  let root: string;
  let s3: S3TestServer;
  let store: S3Store;
  const savedEnv: Record<string, string | undefined> = {};
  const dalles = [
    { key: 'bdortho/92-2024-0645-6865.jp2', x: 645_000, y: 6_865_000 },
    { key: 'bdortho/nested/92-2024-0646-6865.JP2', x: 645_051.2, y: 6_865_000 },
  ];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-prepare-s3-'));
    s3 = await startS3Server();
    await s3.bucket('ortho');
    // the SDK takes credentials from the environment only
    for (const [name, value] of Object.entries(s3.env)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    store = new S3Store('s3://ortho', s3OptionsFromEnv(s3.env));
    for (const [i, d] of dalles.entries()) {
      await writeJp2Dalle(join(root, d.key), { x: d.x, y: d.y, seed: i });
      await store.putFile(d.key, join(root, d.key));
    }
  });
  afterAll(async () => {
    await store?.close();
    await s3?.stop();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('converts every dalle under the prefix to a COG under the output prefix, then skips them', async () => {
    const first = await runFleet(['prepare', '--src', 's3://ortho/bdortho', '--out', 's3://ortho/cog'], s3.env);
    expect(first.stderr).not.toMatch(/failed/);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('2 dalle(s): 2 converted, 0 already prepared (skipped), 0 failed');
    expect(first.stdout).toContain('COGs:   s3://ortho/cog');

    expect(await store.list('cog/')).toEqual([
      'cog/92-2024-0645-6865.tif',
      'cog/92-2024-0645-6865.tif.fleet-source.json',
      'cog/nested/92-2024-0646-6865.tif',
      'cog/nested/92-2024-0646-6865.tif.fleet-source.json',
    ]);
    for (const d of dalles) {
      const cogKey = `cog/${d.key.slice('bdortho/'.length).replace(/\.jp2$/i, '.tif')}`;
      const local = join(root, 'fetched.tif');
      writeFileSync(local, await store.get(cogKey));
      const source = gdalInfo(join(root, d.key));
      const cog = gdalInfo(local);
      expect(cog.layout).toBe('COG');
      expect([cog.size, cog.geoTransform, cog.epsg]).toEqual([source.size, source.geoTransform, '2154']);
      // the version of the object on S3 (its ETag), not of the local copy
      const head = await store.head(d.key);
      expect(cog.metadata.FLEET_SOURCE_VERSION).toBe(`${head!.etag!.replace(/"/g, '')}-${head!.size}`);
      expect(differingPixels(join(root, d.key), local)).toBe(0);
    }

    const second = await runFleet(['prepare', '--src', 's3://ortho/bdortho', '--out', 's3://ortho/cog'], s3.env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('2 dalle(s): 0 converted, 2 already prepared (skipped), 0 failed');
  }, 180_000);
});
