import { mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '@fleet/storage';
import { writeGdalRaster } from '../../../test/support/gdal-raster';
import { layOutMosaic, type ScannedSource } from './mosaic-layout';
import type { SourceRoleName } from './source-roles';
import { scanSource } from './source-scan';
import { writeGeoTiff } from './write-geotiff';

const RES = 0.2;
const X0 = 645000;
const Y0 = 6865000;

interface DalleOptions {
  epsg?: number;
  res?: number;
  shift?: number;
  bands?: number;
}

/** A uint8 dalle of the project's own writer at column `col` of a row of `size` px dalles. */
async function dalle(path: string, col: number, size: number, o: DalleOptions = {}): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  const res = o.res ?? RES;
  const bands = o.bands ?? 3;
  await writeGeoTiff(path, {
    width: size, height: size, bands, tileSize: 16, epsg: o.epsg ?? 2154,
    geoTransform: [X0 + col * size * RES + (o.shift ?? 0), res, 0, Y0, 0, -res],
  }, Array.from({ length: bands }, (_, b) => new Uint8Array(size * size).fill(10 + b)));
}

/** A float32 surface through GDAL, `res` metres per pixel, top-left at (x0, y0). */
function surface(path: string, x0: number, y0: number, w: number, h: number, res: number, o: { epsg?: number; bands?: number; type?: string } = {}): void {
  writeGdalRaster(path, { width: w, height: h, geoTransform: [x0, res, 0, y0, 0, -res], epsg: o.epsg ?? 2154, type: o.type ?? 'Float32' },
    Array.from({ length: o.bands ?? 1 }, () => new Float32Array(w * h).fill(100)));
}

describe('source discovery', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'discover-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const scan = (dir: string, role: SourceRoleName = 'rgb') => scanSource(new LocalStore(join(root, dir)), role);

  it('finds BD ORTHO dalles in nested folders, any extension case, and ignores other files', async () => {
    const d = join(root, 'ORTHOHR', '1_DONNEES_LIVRAISON_2024', 'OHR_RVB_0M20_D092');
    await dalle(join(d, '92-2024-0645-6865-LA93-0M20-E080.tif'), 0, 32);
    await dalle(join(d, '92-2024-0645-6865-LA93-0M20-E080b.TIF'), 1, 32);
    await dalle(join(root, 'ORTHOHR', 'more', 'x.Tiff'), 2, 32);
    writeFileSync(join(d, '92-2024-0645-6865-LA93-0M20-E080.tif.aux.xml'), '<PAMDataset/>');
    writeFileSync(join(d, '92-2024-0645-6865-LA93-0M20-E080.tfw'), '0.2\n0\n0\n-0.2\n645000.1\n6864999.9\n');
    writeFileSync(join(root, 'ORTHOHR', 'LISEZ-MOI.md5'), 'abc');
    const source = await scan('ORTHOHR');
    expect(source.files.map((f) => f.key)).toEqual([
      '1_DONNEES_LIVRAISON_2024/OHR_RVB_0M20_D092/92-2024-0645-6865-LA93-0M20-E080.tif',
      '1_DONNEES_LIVRAISON_2024/OHR_RVB_0M20_D092/92-2024-0645-6865-LA93-0M20-E080b.TIF',
      'more/x.Tiff',
    ]);
    const layout = layOutMosaic([source]);
    expect([layout.width, layout.height]).toEqual([96, 32]);
  });

  it('reads dot-named dalles like any other (no silent hole in the map), and names one that is not a TIFF', async () => {
    await dalle(join(root, 'dots', '.hidden.tif'), 0, 32);
    await dalle(join(root, 'dots', '...tif'), 1, 32);
    await dalle(join(root, 'dots', '.folder', 'c.tif'), 2, 32);
    const source = await scan('dots');
    expect(source.files.map((f) => f.key).sort()).toEqual(['...tif', '.folder/c.tif', '.hidden.tif']);
    expect(layOutMosaic([source]).width).toBe(96);

    writeFileSync(join(root, 'dots', '._92-2024-0645-6865-LA93-0M20-E080.tif'), 'macOS resource fork, not a TIFF');
    await expect(scan('dots')).rejects.toThrow(`${join(root, 'dots', '._92-2024-0645-6865-LA93-0M20-E080.tif')}: not a TIFF file`);
  });

  it('says so when a source holds no GeoTIFF, and hints at conversion for JPEG 2000 deliveries', async () => {
    await expect(scan('missing')).rejects.toThrow(new Error(`no GeoTIFF found in ${join(root, 'missing')}`));
    mkdirSync(join(root, 'jp2'));
    writeFileSync(join(root, 'jp2', '92-2024-0645-6865-LA93-0M20-E080.jp2'), 'x');
    await expect(scan('jp2', 'irc')).rejects.toThrow(`no GeoTIFF found in ${join(root, 'jp2')} (--irc): it holds 1 JPEG 2000 (.jp2) file(s); convert them to GeoTIFF first (fleet prepare)`);
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'other', 'readme.txt'), 'x');
    await expect(scan('other')).rejects.toThrow(`no GeoTIFF found in ${join(root, 'other')} (--rgb): none of its 1 file(s) is a .tif/.tiff`);
  });

  it('names unreadable and truncated files', async () => {
    mkdirSync(join(root, 'bad'));
    writeFileSync(join(root, 'bad', 'notatiff.tif'), 'this is not a TIFF file at all');
    await expect(scan('bad')).rejects.toThrow(`${join(root, 'bad', 'notatiff.tif')}: not a TIFF file`);

    await dalle(join(root, 'cut', 'cut.tif'), 0, 64);
    const path = join(root, 'cut', 'cut.tif');
    truncateSync(path, Math.floor(statSync(path).size / 2));
    await expect(scan('cut')).rejects.toThrow(`${path}: truncated file: `);
  });
});

describe('source validation', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'validate-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const scan = (dir: string, role: SourceRoleName) => scanSource(new LocalStore(join(root, dir)), role);
  const layOut = async (...sources: Array<[string, SourceRoleName]>) => {
    const scanned: ScannedSource[] = [];
    for (const [dir, role] of sources) scanned.push(await scan(dir, role));
    return layOutMosaic(scanned);
  };

  it('rejects a CRS other than Lambert-93, in the primary source or another one', async () => {
    await dalle(join(root, 'utm', 'utm.tif'), 0, 32, { epsg: 32631 });
    await expect(layOut(['utm', 'rgb'])).rejects.toThrow(
      `${join(root, 'utm', 'utm.tif')}: CRS EPSG:32631 is not Lambert-93 (EPSG:2154, or EPSG:9794): reproject it first (gdalwarp -t_srs EPSG:2154)`,
    );
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    await dalle(join(root, 'irc', 'a.tif'), 0, 32, { epsg: 3857 });
    await expect(layOut(['rgb', 'rgb'], ['irc', 'irc'])).rejects.toThrow(`${join(root, 'irc', 'a.tif')}: CRS EPSG:3857 is not Lambert-93`);
  });

  it('rejects a file with no CRS, and a rotated one', async () => {
    writeGdalRaster(join(root, 'nocrs', 'a.tif'), { width: 16, height: 16, geoTransform: [X0, RES, 0, Y0, 0, -RES], epsg: 0, type: 'Byte' }, [0, 1, 2].map(() => new Uint8Array(256)));
    await expect(layOut(['nocrs', 'rgb'])).rejects.toThrow(`${join(root, 'nocrs', 'a.tif')}: no EPSG code in its GeoKeys: the CRS is unknown, Lambert-93 (EPSG:2154) is required`);
    writeGdalRaster(join(root, 'rot', 'a.tif'), { width: 16, height: 16, geoTransform: [X0, RES, 0.01, Y0, 0.01, -RES], epsg: 2154, type: 'Byte' }, [0, 1, 2].map(() => new Uint8Array(256)));
    await expect(layOut(['rot', 'rgb'])).rejects.toThrow(`${join(root, 'rot', 'a.tif')}: only north-up rasters are supported (rotated or flipped geotransform)`);
  });

  it('accepts RGF93 v2b (EPSG:9794) next to RGF93 v1 (EPSG:2154): the same projection', async () => {
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    await dalle(join(root, 'irc', 'a.tif'), 0, 32, { epsg: 9794 });
    expect((await layOut(['rgb', 'rgb'], ['irc', 'irc'])).epsg).toBe(2154);
  });

  it('rejects pixel sizes that differ between image sources', async () => {
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    await dalle(join(root, 'irc', 'a.tif'), 0, 32, { res: 0.5 });
    await expect(layOut(['rgb', 'rgb'], ['irc', 'irc'])).rejects.toThrow(`${join(root, 'irc', 'a.tif')}: pixel size 0.5 x 0.5 differs from 0.2 x 0.2 of ${join(root, 'rgb', 'a.tif')}`);
  });

  it('rejects a dalle off the whole-pixel grid of the mosaic', async () => {
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    await dalle(join(root, 'irc', 'a.tif'), 0, 32, { shift: 0.1 });
    await expect(layOut(['rgb', 'rgb'], ['irc', 'irc'])).rejects.toThrow(`${join(root, 'irc', 'a.tif')}: not aligned to the mosaic grid (offset 0.500, 0.000 px is not whole)`);
  });

  it('rejects band counts that do not fit the role', async () => {
    await dalle(join(root, 'two', 'a.tif'), 0, 32, { bands: 2 });
    await expect(layOut(['two', 'rgb'])).rejects.toThrow(`${join(root, 'two', 'a.tif')}: has 2 band(s); a --rgb source needs 3, or 4 when the last is an alpha band`);
    await dalle(join(root, 'four', 'a.tif'), 0, 32, { bands: 4 });
    await expect(layOut(['four', 'rgb'])).rejects.toThrow(`${join(root, 'four', 'a.tif')}: has 4 bands and band 4 is not an alpha band (ExtraSamples); a --rgb source needs 3, or 4 when the last is an alpha band`);
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    await dalle(join(root, 'e', 'a.tif'), 0, 32, { bands: 3 });
    await expect(layOut(['rgb', 'rgb'], ['e', 'elevation'])).rejects.toThrow(`${join(root, 'e', 'a.tif')}: has 3 band(s); a --elevation source needs 1, or 2 when the last is an alpha band`);
  });

  it('rejects sample types that do not fit the role', async () => {
    writeGdalRaster(join(root, 'u16', 'a.tif'), { width: 32, height: 32, geoTransform: [X0, RES, 0, Y0, 0, -RES], epsg: 2154, type: 'UInt16' },
      [0, 1, 2].map(() => new Uint16Array(32 * 32).fill(300)));
    await expect(layOut(['u16', 'rgb'])).rejects.toThrow(`${join(root, 'u16', 'a.tif')}: band 1 is uint16; a --rgb source needs uint8 bands`);
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    writeGdalRaster(join(root, 'ef', 'a.tif'), { width: 32, height: 32, geoTransform: [X0, RES, 0, Y0, 0, -RES], epsg: 2154, type: 'Float32' }, [new Float32Array(32 * 32)]);
    await expect(layOut(['rgb', 'rgb'], ['ef', 'elevation'])).rejects.toThrow(`${join(root, 'ef', 'a.tif')}: band 1 is float32; a --elevation source needs uint8 bands (use --dsm/--dtm for heights in metres)`);
  });

  it('lays out a coarser DTM on its own grid, and uint8, int16 or float surfaces alike', async () => {
    await dalle(join(root, 'rgb', 'a.tif'), 0, 50); // 10 m x 10 m
    surface(join(root, 'dsm', 'a.tif'), X0, Y0, 50, 50, RES, { type: 'Int16' });
    // 1 m DTM, two dalles side by side, starting 2 m west and 3 m north of the image
    surface(join(root, 'dtm', 'w.tif'), X0 - 2, Y0 + 3, 7, 15, 1);
    surface(join(root, 'dtm', 'e.tif'), X0 + 5, Y0 + 3, 7, 15, 1, { type: 'Byte' });
    surface(join(root, 'dtm', 'far.tif'), X0 + 5000, Y0 + 3, 7, 15, 1); // outside the footprint: left out
    const layout = await layOut(['rgb', 'rgb'], ['dsm', 'dsm'], ['dtm', 'dtm']);
    const dtm = layout.sources[2]!.dalles;
    expect(dtm.map((d) => [d.uri, d.x, d.y, d.width, d.height])).toEqual([['e.tif', 7, 0, 7, 15], ['w.tif', 0, 0, 7, 15]]);
    expect(dtm[0]!.grid).toEqual({ x: -10, y: -15, stepX: 5, stepY: 5 });
    expect(layout.sources[1]!.dalles[0]!.grid).toEqual({ x: 0, y: 0, stepX: 1, stepY: 1 });
  });

  it('rejects surfaces with several bands, another CRS, misaligned dalles or no overlap with the image', async () => {
    await dalle(join(root, 'rgb', 'a.tif'), 0, 50);
    surface(join(root, 'dtm', 'ok.tif'), X0, Y0, 10, 10, 1);
    const withDsm = (dir: string) => layOut(['rgb', 'rgb'], [dir, 'dsm'], ['dtm', 'dtm']);

    surface(join(root, 'two', 'a.tif'), X0, Y0, 50, 50, RES, { bands: 2 });
    await expect(withDsm('two')).rejects.toThrow(`${join(root, 'two', 'a.tif')}: has 2 band(s); a --dsm source needs 1`);
    surface(join(root, 'wgs', 'a.tif'), 2.3, 48.8, 50, 50, 0.0001, { epsg: 4326 });
    await expect(withDsm('wgs')).rejects.toThrow(`${join(root, 'wgs', 'a.tif')}: CRS EPSG:4326 is not Lambert-93`);
    surface(join(root, 'shift', 'a.tif'), X0, Y0, 5, 5, 1);
    surface(join(root, 'shift', 'b.tif'), X0 + 5.5, Y0, 5, 5, 1);
    await expect(withDsm('shift')).rejects.toThrow(`${join(root, 'shift', 'b.tif')}: not aligned to the grid of the other --dsm dalles (offset 5.500, 0.000 px is not whole)`);
    surface(join(root, 'mixed', 'a.tif'), X0, Y0, 5, 5, 1);
    surface(join(root, 'mixed', 'b.tif'), X0 + 5, Y0, 10, 10, 0.5);
    await expect(withDsm('mixed')).rejects.toThrow(`${join(root, 'mixed', 'b.tif')}: pixel size 0.5 x 0.5 differs from 1 x 1 of ${join(root, 'mixed', 'a.tif')} (--dsm dalles must share one grid)`);
    surface(join(root, 'away', 'a.tif'), X0 + 20, Y0, 5, 5, 1);
    await expect(withDsm('away')).rejects.toThrow(`${join(root, 'away')} (--dsm) covers none of the image footprint [645000, 6864990, 645010, 6865000] (Lambert-93 metres)`);
  });

  it('covers the primary footprint: other sources may miss dalles or hold more', async () => {
    await dalle(join(root, 'rgb', 'a.tif'), 0, 32);
    await dalle(join(root, 'rgb', 'b.tif'), 1, 32);
    await dalle(join(root, 'irc', 'a.tif'), 0, 32); // b missing: a département's edge
    await dalle(join(root, 'irc', 'z.tif'), 5, 32); // beyond the RGB footprint
    const layout = await layOut(['rgb', 'rgb'], ['irc', 'irc']);
    expect(layout.width).toBe(64);
    expect(layout.sources[1]!.dalles.map((d) => d.uri)).toEqual(['a.tif']);
    rmSync(join(root, 'irc', 'a.tif'));
    await expect(layOut(['rgb', 'rgb'], ['irc', 'irc'])).rejects.toThrow(`no dalle of ${join(root, 'irc')} (--irc) overlaps the footprint of the --rgb/--stack source`);
  });
});
