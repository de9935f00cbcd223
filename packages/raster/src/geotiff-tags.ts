import { fullColorMap } from './color-map';
import { gdalMetadataXml } from './gdal-metadata';
import type { ResolvedWriteOptions } from './geotiff-write-options';
import { type IfdEntry, TiffType } from './tiff-ifd';

const PHOTOMETRIC = { minisblack: 1, rgb: 2, palette: 3 } as const;
const COMPRESSION_ADOBE_DEFLATE = 8;

/** GeoTIFF key ids (GeoTIFF 1.1, section 7). */
const GeoKey = {
  GTModelType: 1024,
  GTRasterType: 1025,
  GeographicType: 2048,
  ProjectedCSType: 3072,
} as const;
const MODEL_PROJECTED = 1;
const MODEL_GEOGRAPHIC = 2;
const RASTER_PIXEL_IS_AREA = 1;

/**
 * EPSG 4001-4999 are (almost all) geographic 2D CRSs, which GeoTIFF stores under a different
 * key; 4087/4088 are the projected exceptions in that range. No database lookup: the fleet
 * writes Lambert-93 (2154), this only has to be right for the common lat/lon codes.
 */
export function isGeographicEpsg(epsg: number): boolean {
  return epsg >= 4001 && epsg <= 4999 && epsg !== 4087 && epsg !== 4088;
}

/** Every tag of the single IFD (or a COG's full-resolution IFD), given where the tiles landed in the file. */
export function buildGeoTiffTags(
  o: ResolvedWriteOptions,
  tileOffsets: ArrayLike<number>,
  tileByteCounts: ArrayLike<number>,
): IfdEntry[] {
  const tags = [...imageTags(o, o.width, o.height, tileOffsets, tileByteCounts), ...geoTags(o)];
  const xml = gdalMetadataXml(o.metadata, o.bandDescriptions);
  if (xml !== undefined) tags.push({ tag: 42112, type: TiffType.ASCII, values: xml });
  if (o.noData !== undefined) tags.push({ tag: 42113, type: TiffType.ASCII, values: String(o.noData) });
  return tags;
}

/**
 * The tags of a reduced-resolution image (an internal overview): its structure and colour
 * map only, since GDAL takes georeferencing, nodata and metadata from the main image.
 */
export function buildOverviewTags(
  o: ResolvedWriteOptions,
  width: number,
  height: number,
  tileOffsets: ArrayLike<number>,
  tileByteCounts: ArrayLike<number>,
): IfdEntry[] {
  const NEW_SUBFILE_REDUCED_RESOLUTION = 1;
  return [
    { tag: 254, type: TiffType.LONG, values: [NEW_SUBFILE_REDUCED_RESOLUTION] },
    ...imageTags(o, width, height, tileOffsets, tileByteCounts),
  ];
}

function imageTags(
  o: ResolvedWriteOptions,
  width: number,
  height: number,
  tileOffsets: ArrayLike<number>,
  tileByteCounts: ArrayLike<number>,
): IfdEntry[] {
  const long = o.bigTiff ? TiffType.LONG8 : TiffType.LONG;
  const perBand = (v: number) => new Array<number>(o.bands).fill(v);
  const tags: IfdEntry[] = [
    { tag: 256, type: TiffType.LONG, values: [width] }, // ImageWidth
    { tag: 257, type: TiffType.LONG, values: [height] }, // ImageLength
    { tag: 258, type: TiffType.SHORT, values: perBand(8) }, // BitsPerSample
    { tag: 259, type: TiffType.SHORT, values: [COMPRESSION_ADOBE_DEFLATE] },
    { tag: 262, type: TiffType.SHORT, values: [PHOTOMETRIC[o.photometric]] },
    { tag: 277, type: TiffType.SHORT, values: [o.bands] }, // SamplesPerPixel
    { tag: 284, type: TiffType.SHORT, values: [1] }, // PlanarConfiguration: pixel-interleaved
    { tag: 322, type: TiffType.LONG, values: [o.tileSize] }, // TileWidth
    { tag: 323, type: TiffType.LONG, values: [o.tileSize] }, // TileLength
    { tag: 324, type: long, values: tileOffsets },
    { tag: 325, type: long, values: tileByteCounts },
    { tag: 339, type: TiffType.SHORT, values: perBand(1) }, // SampleFormat: unsigned integer
  ];
  const colorBands = o.photometric === 'rgb' ? 3 : 1;
  if (o.bands > colorBands) {
    // ExtraSamples 0 = unspecified data: bands beyond the colour model are plain channels.
    tags.push({ tag: 338, type: TiffType.SHORT, values: new Array<number>(o.bands - colorBands).fill(0) });
  }
  if (o.colorMap) {
    // TIFF colour maps are 16-bit: all reds, then all greens, then all blues; x*257 maps 255 to 65535.
    const full = fullColorMap(o.colorMap);
    const values = [0, 1, 2].flatMap((c) => full.map((rgb) => rgb[c]! * 257));
    tags.push({ tag: 320, type: TiffType.SHORT, values });
  }
  return tags;
}

function geoTags(o: ResolvedWriteOptions): IfdEntry[] {
  const gt = o.geoTransform;
  const geographic = isGeographicEpsg(o.epsg);
  const keys: Array<[number, number]> = [
    [GeoKey.GTModelType, geographic ? MODEL_GEOGRAPHIC : MODEL_PROJECTED],
    [GeoKey.GTRasterType, RASTER_PIXEL_IS_AREA],
    [geographic ? GeoKey.GeographicType : GeoKey.ProjectedCSType, o.epsg],
  ];
  // Header: KeyDirectoryVersion 1, KeyRevision 1.0, number of keys; then (id, location 0 = inline, count 1, value).
  const directory = [1, 1, 0, keys.length, ...keys.flatMap(([id, value]) => [id, 0, 1, value])];
  return [
    { tag: 33550, type: TiffType.DOUBLE, values: [gt[1], -gt[5], 0] }, // ModelPixelScale
    { tag: 33922, type: TiffType.DOUBLE, values: [0, 0, 0, gt[0], gt[3], 0] }, // ModelTiepoint
    { tag: 34735, type: TiffType.SHORT, values: directory }, // GeoKeyDirectory
  ];
}
