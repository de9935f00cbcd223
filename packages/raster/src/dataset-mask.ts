import { intersectRects, type PixelRect } from '@fleet/grid';
import type { ObjectStore } from '@fleet/storage';
import { fromCustomClient, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { LocalFileReader } from './local-file-reader';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { RangeReaderClient } from './range-reader-client';
import { storeRangeReader } from './stored-raster';

/** The internal mask of one file, read window by window: 1 where the file has data, 0 where masked. */
export class DatasetMask {
  private constructor(
    private readonly tiff: GeoTIFF,
    private readonly image: GeoTIFFImage,
    private readonly name: string,
    private readonly release: () => Promise<void>,
  ) {}

  static async open(store: ObjectStore, key: string, maskImage: number): Promise<DatasetMask> {
    const reader = rangeReaderFor(store, key);
    try {
      const tiff = await fromCustomClient(new RangeReaderClient(reader, await reader.size()));
      const image = await tiff.getImage(maskImage);
      return new DatasetMask(tiff, image, reader.name, async () => (reader instanceof LocalFileReader ? reader.close() : undefined));
    } catch (err) {
      if (reader instanceof LocalFileReader) await reader.close().catch(() => undefined);
      throw err instanceof RasterError ? err : new RasterError(reader.name, `cannot read its internal mask: ${String(err)}`, { cause: err });
    }
  }

  /** `window` in the file's pixels; pixels outside the file are 0 (no data). */
  async read(window: PixelRect): Promise<Uint8Array> {
    const out = new Uint8Array(window.width * window.height);
    const clip = intersectRects(window, { x: 0, y: 0, width: this.image.getWidth(), height: this.image.getHeight() });
    if (!clip) return out;
    let rasters;
    try {
      rasters = await this.image.readRasters({ window: [clip.x, clip.y, clip.x + clip.width, clip.y + clip.height], samples: [0], interleave: false });
    } catch (err) {
      throw new RasterError(this.name, `cannot read its internal mask: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const src = rasters[0] as ArrayLike<number>;
    for (let r = 0; r < clip.height; r++) {
      const dst = (clip.y - window.y + r) * window.width + (clip.x - window.x);
      // GDAL writes 1-bit masks (decoded as 0/1) but readers must accept 8-bit 0/255 too
      for (let c = 0; c < clip.width; c++) out[dst + c] = src[r * clip.width + c]! !== 0 ? 1 : 0;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.tiff.close();
    await this.release();
  }
}

function rangeReaderFor(store: ObjectStore, key: string): RangeReader {
  const path = store.localPath(key);
  return path !== undefined ? new LocalFileReader(path) : storeRangeReader(store, key);
}
