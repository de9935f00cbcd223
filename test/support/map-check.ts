import { argmaxClassIds, inferWholeImage } from '../../packages/model/src';
import { openGeoTiff } from '../../packages/raster/src';
import type { PerPixelModel } from '../../packages/demo-data/src';
import type { StackFixture } from './mosaic-fixture';

/**
 * The reference map of a context-free model: onnxruntime run once over the whole mosaic,
 * argmax over the enabled classes, 0 where no dalle covers the pixel. A pipeline run must
 * reproduce it pixel for pixel.
 */
export async function wholeMosaicArgmax(mosaic: StackFixture, model: PerPixelModel): Promise<Uint8Array> {
  const input = new Uint8Array(5 * mosaic.width * mosaic.height);
  mosaic.planes.forEach((p, b) => input.set(p, b * p.length));
  const expected = argmaxClassIds(await inferWholeImage(model.onnx, model.manifest, input, mosaic.width, mosaic.height), 19, model.manifest);
  mosaic.covered.forEach((c, i) => {
    if (!c) expected[i] = 0;
  });
  return expected;
}

export interface BlockCheck {
  width: number;
  height: number;
  epsg: number | undefined;
  noData: number | undefined;
  geoTransform: readonly number[];
  /** Pixels whose class differs from the reference. */
  mismatches: number;
}

/** Reads a block GeoTIFF placed at dalle `d` of the mosaic and counts pixels that differ from `expected`. */
export async function checkBlock(path: string, d: StackFixture['dalles'][number], mosaicWidth: number, expected: Uint8Array): Promise<BlockCheck> {
  const file = await openGeoTiff(path);
  try {
    const [classes] = await file.readWindow({ x: 0, y: 0, width: d.width, height: d.height });
    let mismatches = 0;
    for (let y = 0; y < d.height; y++) {
      for (let x = 0; x < d.width; x++) if (classes![y * d.width + x] !== expected[(d.y + y) * mosaicWidth + d.x + x]) mismatches++;
    }
    return { width: file.width, height: file.height, epsg: file.epsg, noData: file.noData, geoTransform: file.geoTransform, mismatches };
  } finally {
    await file.close();
  }
}
