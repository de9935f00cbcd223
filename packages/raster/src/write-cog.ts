import { CogWriter, type CogWriteOptions } from './cog-writer';

/** Writes a whole in-memory class raster (width*height bytes) as a COG (see CogWriter). */
export async function writeCog(path: string, options: CogWriteOptions, plane: Uint8Array): Promise<void> {
  if (plane.length !== options.width * options.height) {
    throw new RangeError(`${path}: plane has ${plane.length} bytes, expected ${options.width}x${options.height}`);
  }
  const writer = await CogWriter.create(path, options);
  const t = options.tileSize ?? 512;
  try {
    for (let ty = 0; ty < writer.tilesDown; ty++) {
      for (let tx = 0; tx < writer.tilesAcross; tx++) {
        const tile = new Uint8Array(t * t);
        const cols = Math.min(t, options.width - tx * t);
        const rows = Math.min(t, options.height - ty * t);
        for (let r = 0; r < rows; r++) {
          const src = (ty * t + r) * options.width + tx * t;
          tile.set(plane.subarray(src, src + cols), r * t);
        }
        await writer.writeTile(tx, ty, tile);
      }
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
