import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { offsetGeoTransform } from '@fleet/grid';
import { openGeoTiff } from './geotiff-reader';
import { gdal, gdalinfoJson, itGdal, syntheticPlanes, withTempDir } from './test-support';
import { buildMosaicVrt } from './vrt-writer';
import { writeGeoTiff } from './write-geotiff';

const GT = [651000, 0.2, 0, 6862000, 0, -0.2] as const;
const COLORS: Array<[number, number, number]> = [[219, 14, 154], [147, 142, 123], [248, 12, 0]];

describe('buildMosaicVrt', () => {
  it('writes one Byte band with palette, NoData and a SimpleSource per block, paths relative to the VRT', () => {
    const xml = buildMosaicVrt({
      width: 300, height: 200, geoTransform: GT, epsg: 2154, noData: 0, colorMap: COLORS,
      blocks: [
        { path: 'blocks/r0-c0.tif', x: 0, y: 0, width: 160, height: 200 },
        { path: 'blocks/a&b.tif', x: 160, y: 0, width: 140, height: 150 },
      ],
    });
    expect(xml).toContain('<VRTDataset rasterXSize="300" rasterYSize="200">');
    expect(xml).toContain('<SRS>EPSG:2154</SRS>');
    expect(xml).toContain('<GeoTransform>651000, 0.2, 0, 6862000, 0, -0.2</GeoTransform>');
    expect(xml).toContain('<VRTRasterBand dataType="Byte" band="1">');
    expect(xml).toContain('<NoDataValue>0</NoDataValue>');
    expect(xml).toContain('<ColorInterp>Palette</ColorInterp>');
    expect(xml.match(/<Entry /g)).toHaveLength(256);
    expect(xml).toContain('<Entry c1="248" c2="12" c3="0" c4="255"/>');
    expect(xml.match(/<SimpleSource>/g)).toHaveLength(2);
    expect(xml).toContain('<SourceFilename relativeToVRT="1">blocks/a&amp;b.tif</SourceFilename>');
    expect(xml).toContain('<DstRect xOff="160" yOff="0" xSize="140" ySize="150"/>');
    expect(xml).toContain('<SrcRect xOff="0" yOff="0" xSize="140" ySize="150"/>');
  });

  it('without a colour map the band is Gray and has no colour table', () => {
    const xml = buildMosaicVrt({ width: 10, height: 10, geoTransform: GT, epsg: 2154, blocks: [] });
    expect(xml).toContain('<ColorInterp>Gray</ColorInterp>');
    expect(xml).not.toContain('ColorTable');
    expect(xml).not.toContain('NoDataValue');
  });

  it('rejects blocks outside the mosaic', () => {
    expect(() => buildMosaicVrt({
      width: 100, height: 100, geoTransform: GT, epsg: 2154,
      blocks: [{ path: 'x.tif', x: 50, y: 0, width: 60, height: 10 }],
    })).toThrow('block x.tif at (50, 0) size 60x10 is outside the 100x100 mosaic');
  });

  itGdal('GDAL opens the VRT over two GeoTIFF blocks and translates it to the expected mosaic', async () => {
    await withTempDir(async (dir) => {
      const width = 300;
      const height = 200;
      const blocks = [
        { path: 'blocks/left.tif', x: 0, y: 0, width: 160, height: 200 },
        { path: 'blocks/right.tif', x: 160, y: 0, width: 140, height: 150 }, // leaves 140x50 uncovered
      ];
      await mkdir(join(dir, 'blocks'));
      const blockPlanes: Uint8Array[] = [];
      for (const [i, b] of blocks.entries()) {
        const plane = syntheticPlanes(b.width, b.height, 1, 30 + i)[0]!.map((v) => 1 + (v % 3)); // classes 1..3
        blockPlanes.push(plane);
        await writeGeoTiff(join(dir, b.path), {
          width: b.width, height: b.height, bands: 1, tileSize: 64, epsg: 2154, noData: 0, colorMap: COLORS,
          geoTransform: offsetGeoTransform(GT, b.x, b.y),
        }, [plane]);
      }
      const vrt = join(dir, 'mosaic.vrt');
      await writeFile(vrt, buildMosaicVrt({ width, height, geoTransform: GT, epsg: 2154, noData: 0, colorMap: COLORS, blocks }));

      const info = await gdalinfoJson(vrt);
      expect(info.driverShortName).toBe('VRT');
      expect(info.size).toEqual([width, height]);
      expect(info.geoTransform).toEqual([...GT]);
      expect(info.coordinateSystem.wkt).toContain('RGF93 v1 / Lambert-93');
      expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",2154\]\]$/);
      const band = info.bands[0];
      expect(band.type).toBe('Byte');
      expect(band.noDataValue).toBe(0);
      expect(band.colorInterpretation).toBe('Palette');
      expect(band.colorTable.count).toBe(256);
      expect(band.colorTable.entries[2]).toEqual([248, 12, 0, 255]);

      const out = join(dir, 'mosaic.tif');
      await gdal('gdal_translate', ['-q', '-of', 'GTiff', vrt, out]);
      const file = await openGeoTiff(out);
      expect(file.geoTransform).toEqual([...GT]);
      expect(file.epsg).toBe(2154);
      const [mosaic] = await file.readWindow({ x: 0, y: 0, width, height });
      await file.close();
      const expected = new Uint8Array(width * height); // uncovered stays 0 (NoData)
      blocks.forEach((b, i) => {
        for (let r = 0; r < b.height; r++) {
          expected.set(blockPlanes[i]!.subarray(r * b.width, (r + 1) * b.width), (b.y + r) * width + b.x);
        }
      });
      expect(Buffer.compare(mosaic!, expected)).toBe(0);
      expect(mosaic![199 * width + 299]).toBe(0);
      expect(mosaic![0]).toBe(blockPlanes[0]![0]);
    });
  });
});
