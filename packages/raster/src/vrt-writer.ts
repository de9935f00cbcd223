import type { GeoTransform } from '@fleet/grid';
import { type ColorMap, fullColorMap, validateColorMap } from './color-map';
import { xmlEscape } from './xml-escape';

export interface MosaicVrtBlock {
  /** The block's file, relative to the VRT. */
  path: string;
  /** Where the block goes in the mosaic, in mosaic pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MosaicVrtOptions {
  width: number;
  height: number;
  geoTransform: GeoTransform;
  epsg: number;
  /** NoData value of the band. Default: none. */
  noData?: number;
  /** Colour table: the band becomes a palette band. Default: none. */
  colorMap?: ColorMap;
  /** Single-band uint8 blocks, each read from its pixel (0, 0). */
  blocks: MosaicVrtBlock[];
}

/**
 * A GDAL VRTDataset that shows single-band uint8 blocks as one mosaic, so GDAL tools (and
 * QGIS) read the merged output without copying it into one file.
 */
export function buildMosaicVrt(options: MosaicVrtOptions): string {
  const { width, height, geoTransform: gt, epsg, noData, colorMap, blocks } = options;
  if (colorMap) validateColorMap(colorMap);
  for (const b of blocks) {
    if (b.x < 0 || b.y < 0 || b.width <= 0 || b.height <= 0 || b.x + b.width > width || b.y + b.height > height) {
      throw new RangeError(`block ${b.path} at (${b.x}, ${b.y}) size ${b.width}x${b.height} is outside the ${width}x${height} mosaic`);
    }
  }
  const lines = [
    `<VRTDataset rasterXSize="${width}" rasterYSize="${height}">`,
    `  <SRS>EPSG:${epsg}</SRS>`,
    `  <GeoTransform>${gt.map(formatNumber).join(', ')}</GeoTransform>`,
    `  <VRTRasterBand dataType="Byte" band="1">`,
  ];
  if (noData !== undefined) lines.push(`    <NoDataValue>${formatNumber(noData)}</NoDataValue>`);
  if (colorMap) {
    lines.push('    <ColorInterp>Palette</ColorInterp>', '    <ColorTable>');
    // 256 entries (missing ones black), as in the GeoTIFF blocks, so both read the same.
    for (const [r, g, b] of fullColorMap(colorMap)) lines.push(`      <Entry c1="${r}" c2="${g}" c3="${b}" c4="255"/>`);
    lines.push('    </ColorTable>');
  } else {
    lines.push('    <ColorInterp>Gray</ColorInterp>');
  }
  for (const b of blocks) {
    lines.push(
      '    <SimpleSource>',
      `      <SourceFilename relativeToVRT="1">${xmlEscape(b.path)}</SourceFilename>`,
      '      <SourceBand>1</SourceBand>',
      `      <SrcRect xOff="0" yOff="0" xSize="${b.width}" ySize="${b.height}"/>`,
      `      <DstRect xOff="${b.x}" yOff="${b.y}" xSize="${b.width}" ySize="${b.height}"/>`,
      '    </SimpleSource>',
    );
  }
  lines.push('  </VRTRasterBand>', '</VRTDataset>', '');
  return lines.join('\n');
}

/** Shortest round-tripping decimal (no exponent surprises for coordinates). */
function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toFixed(0) : String(n);
}
