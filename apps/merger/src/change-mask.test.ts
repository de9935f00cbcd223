import { PNG } from 'pngjs';
import { changeMaskPng, mosaicExtent } from './run-changes';

describe("the console's change layer", () => {
  it('places the mosaic by its geotransform, north-up', () => {
    expect(mosaicExtent({ width: 1000, height: 500, geoTransform: [650_000, 0.2, 0, 6_860_000, 0, -0.2], epsg: 2154 })).toEqual([650_000, 6_859_900, 650_200, 6_860_000]);
  });

  it('is red where something changed and transparent elsewhere, as large as the downsampled mosaic', () => {
    const where = new Uint8Array([0, 1, 0, 0, 0, 1]);
    const png = PNG.sync.read(changeMaskPng(where, 3, 2));
    expect([png.width, png.height]).toEqual([3, 2]);
    const alpha = Array.from({ length: 6 }, (_, i) => png.data[i * 4 + 3]);
    expect(alpha).toEqual([0, 255, 0, 0, 0, 255]);
    expect(Array.from(png.data.subarray(4, 8))).toEqual([230, 0, 60, 255]);
  });
});
