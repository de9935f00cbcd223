/**
 * How fast the worker could decompress source tiles of each codec (issue 13, input side): every
 * full-resolution tile of the mosaics `bench:source-decode` prepared, decompressed again and
 * again on one thread, in MB of tile out per CPU second. DEFLATE through node's zlib (what
 * NativeBlocks calls), ZSTD through zstddec's WebAssembly ZSTD_decompress with the size known
 * (the fast call; geotiff.js uses zstddec's streaming one): Node 20 has no zstd of its own.
 *
 *   npm run bench:source-decode -- --settings deflate-predictor-512,zstd-512   # writes the folders
 *   node bench/dist/source-tile-codecs.js [--settings deflate-predictor-512,zstd-512] [--rounds 5]
 *
 * Decompression only: no predictor, no split into planes, no file reads.
 */
import { readFile, readdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inflateSync } from 'node:zlib';
import { fromArrayBuffer } from 'geotiff';
import { ZSTDDecoder } from 'zstddec';
import { CACHE_DIR } from './fixtures';

const ROLES = ['rgb', 'irc', 'elevation'];
const DEFLATE = [8, 32946];
const ZSTD = 50000;

interface StoredTile {
  bytes: Uint8Array;
  /** Decompressed size: a full tile of its samples. */
  size: number;
}

/** The compressed tiles of the full-resolution image of every file under `dir`, and their codec. */
async function storedTiles(dir: string): Promise<{ tiles: StoredTile[]; compression: number }> {
  const tiles: StoredTile[] = [];
  let compression = 0;
  for (const role of ROLES) {
    for (const name of await readdir(join(dir, role))) {
      const file = await readFile(join(dir, role, name));
      const image = await (await fromArrayBuffer(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength))).getImage();
      const directory = image.getFileDirectory();
      compression = (directory.getValue('Compression') as number | undefined) ?? 1;
      const offsets = (await directory.loadValue('TileOffsets')) as ArrayLike<number | bigint>;
      const counts = (await directory.loadValue('TileByteCounts')) as ArrayLike<number | bigint>;
      // band-separate files (PlanarConfiguration 2) hold one sample per tile
      const size = image.getTileWidth() * image.getTileHeight() * (image.planarConfiguration === 2 ? image.getSampleByteSize(0) : image.getBytesPerPixel());
      for (let i = 0; i < offsets.length; i++) {
        const offset = Number(offsets[i]);
        tiles.push({ bytes: file.subarray(offset, offset + Number(counts[i])), size });
      }
    }
  }
  return { tiles, compression };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { settings: { type: 'string' }, rounds: { type: 'string' } } });
  const settings = (values.settings ?? 'deflate-predictor-512,zstd-512').split(',');
  const rounds = Number(values.rounds ?? 5);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  const zstd = new ZSTDDecoder();
  await zstd.init();
  process.stdout.write(`machine: ${cpus().length} CPUs, node ${process.version}; load average at the start ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write('setting                        tiles   MB out/round   CPU ms/round   MB out per CPU s\n');
  for (const setting of settings) {
    const dir = join(CACHE_DIR, `prepared-${setting}`);
    const { tiles, compression } = await storedTiles(dir).catch((err: unknown) => {
      throw new Error(`${dir}: ${err instanceof Error ? err.message : String(err)} (run bench:source-decode with --settings ${setting} first)`);
    });
    let decode: (tile: StoredTile) => Uint8Array;
    if (DEFLATE.includes(compression)) decode = (tile) => inflateSync(tile.bytes);
    else if (compression === ZSTD) decode = (tile) => zstd.decode(tile.bytes, tile.size);
    else throw new Error(`${setting}: compression ${compression} is neither DEFLATE nor ZSTD`);
    let bytes = 0;
    for (const tile of tiles) {
      const out = decode(tile);
      if (out.length !== tile.size) throw new Error(`${setting}: a tile decompressed to ${out.length} bytes, ${tile.size} expected`);
      bytes += out.length;
    }
    const before = process.cpuUsage();
    for (let r = 0; r < rounds; r++) for (const tile of tiles) decode(tile);
    const cpu = process.cpuUsage(before);
    const ms = (cpu.user + cpu.system) / 1000 / rounds;
    process.stdout.write(`${setting.padEnd(30)} ${String(tiles.length).padStart(5)} ${(bytes / 1e6).toFixed(1).padStart(14)} ${ms.toFixed(1).padStart(14)} ${(bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(18)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`source-tile-codecs failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
