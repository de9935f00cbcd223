import { drawText, GLYPH_HEIGHT, textWidth } from './bitmap-font';

export interface LegendClass {
  id: number;
  name: string;
  rgb: readonly [number, number, number];
}

/** Where a legend entry's colour swatch was drawn (for tests and callers that annotate). */
export interface LegendSwatch {
  id: number;
  x: number;
  y: number;
  size: number;
}

const MARGIN = 12;
const TEXT_SCALE = 2;
const SWATCH = GLYPH_HEIGHT * TEXT_SCALE;
const ROW_PITCH = SWATCH + 6;
const SWATCH_BORDER: readonly [number, number, number] = [51, 51, 51];
const INK: readonly [number, number, number] = [0, 0, 0];
const TITLE = 'land cover';

/**
 * The mosaic reduction factor and quicklook map size: the longest side at most `maxSide`
 * pixels, each quicklook pixel an integer number of mosaic pixels.
 */
export function quicklookScale(mosaicWidth: number, mosaicHeight: number, maxSide: number): { factor: number; width: number; height: number } {
  const factor = Math.max(1, Math.ceil(Math.max(mosaicWidth, mosaicHeight) / maxSide));
  return { factor, width: Math.ceil(mosaicWidth / factor), height: Math.ceil(mosaicHeight / factor) };
}

/**
 * Pure: an RGBA image of a class map in its palette (class 0, nodata, transparent), with a
 * legend panel on its right on white: a title, then per class a bordered colour swatch and
 * the class name.
 */
export function renderQuicklook(
  classes: Uint8Array,
  mapWidth: number,
  mapHeight: number,
  legend: readonly LegendClass[],
): { rgba: Uint8Array; width: number; height: number; swatches: LegendSwatch[] } {
  if (classes.length !== mapWidth * mapHeight) throw new RangeError(`class map has ${classes.length} pixels, expected ${mapWidth}x${mapHeight}`);
  const textX = MARGIN + SWATCH + 8;
  const longest = Math.max(textWidth(TITLE, TEXT_SCALE), ...legend.map((c) => textWidth(c.name, TEXT_SCALE) + SWATCH + 8));
  const panelWidth = MARGIN + longest + MARGIN;
  const width = mapWidth + panelWidth;
  const height = Math.max(mapHeight, MARGIN + ROW_PITCH * (legend.length + 1) + MARGIN);
  const rgba = new Uint8Array(width * height * 4);

  const colours = new Map(legend.map((c) => [c.id, c.rgb]));
  for (let y = 0; y < mapHeight; y++) {
    for (let x = 0; x < mapWidth; x++) {
      const rgb = colours.get(classes[y * mapWidth + x]!);
      if (!rgb) continue; // nodata, or a class outside the legend: transparent
      const at = (y * width + x) * 4;
      rgba.set(rgb, at);
      rgba[at + 3] = 255;
    }
  }
  fill(rgba, width, mapWidth, 0, panelWidth, height, [255, 255, 255]);
  const panelX = mapWidth + MARGIN;
  drawText(rgba, width, height, TITLE, panelX, MARGIN, TEXT_SCALE, INK);
  const swatches = legend.map((c, i) => {
    const y = MARGIN + ROW_PITCH * (i + 1);
    fill(rgba, width, panelX, y, SWATCH, SWATCH, SWATCH_BORDER);
    fill(rgba, width, panelX + 1, y + 1, SWATCH - 2, SWATCH - 2, c.rgb);
    drawText(rgba, width, height, c.name, mapWidth + textX, y, TEXT_SCALE, INK);
    return { id: c.id, x: panelX, y, size: SWATCH };
  });
  return { rgba, width, height, swatches };
}

function fill(rgba: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, rgb: readonly [number, number, number]): void {
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const at = (y * width + x) * 4;
      rgba[at] = rgb[0];
      rgba[at + 1] = rgb[1];
      rgba[at + 2] = rgb[2];
      rgba[at + 3] = 255;
    }
  }
}
