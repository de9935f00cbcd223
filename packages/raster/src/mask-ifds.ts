import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import { RasterError } from './raster-error';

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
 * ExtraSamples, so that masked pixels are treated as nodata. It works on a file already
 * parsed (RasterFile.masks), so the coordinator's scan opens each file once.
 */
export async function findMasks(tiff: GeoTIFF, first: GeoTIFFImage, name: string): Promise<MaskInfo> {
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
