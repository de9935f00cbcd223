import { fromCustomClient } from 'geotiff';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { RangeReaderClient } from './range-reader-client';
import { registerZlibDeflateDecoder } from './zlib-deflate-decoder';

registerZlibDeflateDecoder();

/**
 * The first band of a GeoTIFF resampled (nearest) to width x height, read from the smallest
 * image (full resolution or internal overview) that still has at least that many pixels: a
 * preview of a COG block costs a few of its smallest overview's tiles, not the block.
 * For class maps, whose overviews are modes of the classes.
 */
export async function readClassPreview(reader: RangeReader, width: number, height: number): Promise<Uint8Array> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${reader.name}: preview size must be positive integers, got ${width}x${height}`);
  }
  const size = await reader.size();
  const tiff = await fromCustomClient(new RangeReaderClient(reader, size)).catch((err: unknown) => {
    throw new RasterError(reader.name, `cannot read the TIFF header (${err instanceof Error ? err.message : String(err)})`);
  });
  const count = await tiff.getImageCount();
  let chosen = await tiff.getImage(0);
  for (let i = 1; i < count; i++) {
    const image = await tiff.getImage(i);
    if (image.getWidth() < width || image.getHeight() < height) break;
    chosen = image;
  }
  if (chosen.getBitsPerSample(0) !== 8) throw new RasterError(reader.name, `band 1 is not 8-bit, cannot preview it as classes`);
  const [band] = (await chosen.readRasters({ samples: [0], width, height, resampleMethod: 'nearest' })) as unknown as Uint8Array[];
  return Uint8Array.from(band!);
}
