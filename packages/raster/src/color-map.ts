/** 8-bit RGB entries indexed by pixel value (at most 256). */
export type ColorMap = ReadonlyArray<readonly [number, number, number]>;

/** Throws unless every entry is three integers in 0..255 and there are at most 256 entries. */
export function validateColorMap(colorMap: ColorMap): void {
  if (colorMap.length > 256) {
    throw new RangeError(`colorMap has ${colorMap.length} entries; at most 256 fit 8-bit pixels`);
  }
  colorMap.forEach((entry, i) => {
    if (entry.length !== 3 || !entry.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
      throw new RangeError(`colorMap entry ${i} must be three integers in 0..255, got [${entry.join(', ')}]`);
    }
  });
}

/** The 256 entries GDAL and TIFF readers expect for 8-bit pixels: missing entries are black. */
export function fullColorMap(colorMap: ColorMap): Array<readonly [number, number, number]> {
  return Array.from({ length: 256 }, (_, i) => colorMap[i] ?? ([0, 0, 0] as const));
}
