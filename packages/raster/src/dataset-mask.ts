import { intersectRects, type PixelRect } from '@fleet/grid';
import type { ObjectStore } from '@fleet/storage';
import { fromCustomClient, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { LocalFileReader } from './local-file-reader';
import { RasterError } from './raster-error';
import type { RangeReader } from './range-reader';
import { RangeReaderClient } from './range-reader-client';
import { storeRangeReader } from './stored-raster';

/** TIFF NewSubfileType bit 2: the IFD is a transparency mask of another image. Bit 0: reduced resolution (an overview). */
const MASK_SUBFILE = 4;
const REDUCED_RESOLUTION = 1;
/** ExtraSamples values for an alpha channel: 1 associated (premultiplied), 2 unassociated. */
const ALPHA_EXTRA_SAMPLES = new Set([1, 2]);

/** Where a file says which of its pixels hold no data, besides a nodata value. */
export interface MaskInfo {
  /** 0-based band that is an alpha channel (ExtraSamples 1 or 2): 0 there means no data. */
  alphaBand?: number;
  /** Index of the full-resolution internal mask IFD (GDAL's per-dataset mask, NewSubfileType=4). */
  maskImage?: number;
}

/**
 * geotiff.js (3.x) parses every IFD of a file as an image, the GDAL internal mask included
 * (a 1-bit image with NewSubfileType=4 that it decodes to 0/1 values), but does not link the
 * mask to the image it belongs to. This module does that linking, and finds alpha bands from
 * ExtraSamples, so that masked pixels are treated as nodata.
 */
export async function inspectMasks(store: ObjectStore, key: string): Promise<MaskInfo> {
  return withTiff(store, key, async (tiff, name) => {
    const first = await tiff.getImage(0);
    const info: MaskInfo = {};
    const alphaBand = findAlphaBand(first);
    if (alphaBand !== undefined) info.alphaBand = alphaBand;
    const count = await tiff.getImageCount().catch((err: unknown) => {
      throw new RasterError(name, `truncated or corrupt TIFF directory chain: ${err instanceof Error ? err.message : String(err)}`);
    });
    for (let i = 1; i < count; i++) {
      const image = await tiff.getImage(i);
      if (isFullResolutionMask(image, first)) {
        info.maskImage = i;
        break;
      }
    }
    return info;
  });
}

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

function findAlphaBand(image: GeoTIFFImage): number | undefined {
  const extra = image.getFileDirectory().getValue('ExtraSamples') as ArrayLike<number> | number | undefined;
  if (extra === undefined) return undefined;
  const values = typeof extra === 'number' ? [extra] : Array.from(extra);
  const firstExtra = image.getSamplesPerPixel() - values.length;
  const i = values.findIndex((v) => ALPHA_EXTRA_SAMPLES.has(v));
  return i < 0 ? undefined : firstExtra + i;
}

function isFullResolutionMask(image: GeoTIFFImage, of: GeoTIFFImage): boolean {
  const subfile = Number(image.getFileDirectory().getValue('NewSubfileType') ?? 0);
  return (subfile & MASK_SUBFILE) !== 0 && (subfile & REDUCED_RESOLUTION) === 0 && image.getWidth() === of.getWidth() && image.getHeight() === of.getHeight();
}

function rangeReaderFor(store: ObjectStore, key: string): RangeReader {
  const path = store.localPath(key);
  return path !== undefined ? new LocalFileReader(path) : storeRangeReader(store, key);
}

async function withTiff<T>(store: ObjectStore, key: string, fn: (tiff: GeoTIFF, name: string) => Promise<T>): Promise<T> {
  const reader = rangeReaderFor(store, key);
  try {
    const tiff = await fromCustomClient(new RangeReaderClient(reader, await reader.size()));
    try {
      return await fn(tiff, reader.name);
    } finally {
      await tiff.close();
    }
  } finally {
    if (reader instanceof LocalFileReader) await reader.close();
  }
}
