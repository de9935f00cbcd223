/** Width and height of one image of a COG: level 0 is full resolution, each next level halves it. */
export interface LevelSize {
  width: number;
  height: number;
}

/**
 * The image sizes of a COG with internal overviews, as GDAL's COG driver picks them by
 * default: halve (rounding up) until the whole image fits in one tile.
 */
export function cogLevelSizes(width: number, height: number, tileSize: number): LevelSize[] {
  const levels: LevelSize[] = [{ width, height }];
  let last = levels[0]!;
  while (last.width > tileSize || last.height > tileSize) {
    last = { width: Math.ceil(last.width / 2), height: Math.ceil(last.height / 2) };
    levels.push(last);
  }
  return levels;
}

/**
 * GDAL's "ghost area" after the TIFF header: structural metadata declaring the COG layout,
 * which GDAL reads to report LAYOUT=COG and validators use to check the file. Every tile is
 * written with its byte count as a 4-byte leader and its last 4 bytes repeated as a trailer,
 * which lets a reader fetch a tile with one request and detect a file edited in place.
 */
export function cogGhostArea(): Buffer {
  const body = [
    'LAYOUT=IFDS_BEFORE_DATA',
    'BLOCK_ORDER=ROW_MAJOR',
    'BLOCK_LEADER=SIZE_AS_UINT4',
    'BLOCK_TRAILER=LAST_4_BYTES_REPEATED',
    'KNOWN_INCOMPATIBLE_EDITION=NO',
    '',
  ].join('\n') + ' '; // GDAL pads with a space too
  const head = `GDAL_STRUCTURAL_METADATA_SIZE=${String(body.length).padStart(6, '0')} bytes\n`;
  return Buffer.from(head + body, 'latin1');
}
