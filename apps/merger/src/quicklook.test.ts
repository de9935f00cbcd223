import { outputKeys, type RunSpec } from '@fleet/jobs';
import { writeCog } from '@fleet/raster';
import { LocalStore } from '@fleet/storage';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { GLYPH_HEIGHT } from './bitmap-font';
import { classColorMap } from './palette';
import { writeQuicklook } from './quicklook';
import { renderQuicklook } from './quicklook-image';
import { buildRunReport } from './run-report';

const classes = [
  { id: 1, name: 'building', color: '#db0e9a' },
  { id: 5, name: 'water', color: '#1553ae' },
  { id: 10, name: 'herbaceous vegetation', color: '#55ff00' },
];
const spec = {
  runId: 'run-q',
  createdAt: '2026-11-24T10:00:00.000Z',
  mosaic: { width: 2048, height: 1024, geoTransform: [645000, 0.2, 0, 6865000, 0, -0.2], epsg: 2154 },
  model: { name: 'm', version: '1', classes },
  blocks: [{ id: 'A', x: 0, y: 0, width: 1024, height: 1024 }, { id: 'B', x: 1024, y: 0, width: 1024, height: 1024 }],
} as unknown as RunSpec;

/** Block A: building on the left half, water on the right; block B: nodata on top, herbaceous below. */
function blockPlane(id: string): Uint8Array {
  const plane = new Uint8Array(1024 * 1024);
  for (let y = 0; y < 1024; y++) {
    for (let x = 0; x < 1024; x++) plane[y * 1024 + x] = id === 'A' ? (x < 512 ? 1 : 5) : y < 512 ? 0 : 10;
  }
  return plane;
}

describe('writeQuicklook', () => {
  it('draws every block from its overviews in the palette, nodata transparent, with a legend of swatches and names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-quicklook-'));
    try {
      const store = new LocalStore(dir);
      await mkdir(join(dir, 'blocks'));
      for (const b of spec.blocks) {
        await writeCog(join(dir, 'blocks', `${b.id}.tif`), { width: 1024, height: 1024, tileSize: 256, geoTransform: [645000 + b.x * 0.2, 0.2, 0, 6865000, 0, -0.2], epsg: 2154, noData: 0 }, blockPlane(b.id));
      }
      const report = buildRunReport(spec, {}, {}, spec.blocks.map((b) => ({ blockId: b.id, key: `blocks/${b.id}.tif`, bytes: 0, classPixels: {}, failedWindows: 0, mergeMs: 0 })), new Date());
      const drawn = await writeQuicklook(spec, report, store, 512);
      expect([drawn.mapWidth, drawn.mapHeight]).toEqual([512, 256]); // 4 mosaic px per quicklook px

      const png = PNG.sync.read(await readFile(join(dir, outputKeys.quicklook(spec.runId))));
      expect([png.width, png.height]).toEqual([drawn.width, drawn.height]);
      expect(png.width).toBeGreaterThan(512 + 100); // the legend panel
      const rgba = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4)];
      const palette = classColorMap(classes);
      expect(rgba(60, 128)).toEqual([...palette[1]!, 255]);
      expect(rgba(200, 128)).toEqual([...palette[5]!, 255]);
      expect(rgba(400, 60)).toEqual([0, 0, 0, 0]);
      expect(rgba(400, 200)).toEqual([...palette[10]!, 255]);

      expect(drawn.swatches.map((s) => s.id)).toEqual([1, 5, 10]);
      for (const s of drawn.swatches) {
        const c = s.size >> 1;
        expect(rgba(s.x + c, s.y + c)).toEqual([...palette[s.id]!, 255]);
        // the class name is inked in black to the right of its swatch
        let ink = 0;
        for (let y = s.y; y < s.y + 2 * GLYPH_HEIGHT; y++) for (let x = s.x + s.size + 8; x < png.width; x++) if (rgba(x, y).join() === '0,0,0,255') ink++;
        expect(ink).toBeGreaterThan(20);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('renderQuicklook', () => {
  it('sizes the legend to the longest name and refuses a map of the wrong size', () => {
    const legend = [{ id: 1, name: 'a', rgb: [1, 2, 3] as const }];
    const short = renderQuicklook(new Uint8Array(4), 2, 2, legend);
    const long = renderQuicklook(new Uint8Array(4), 2, 2, [{ ...legend[0]!, name: 'a much longer class name' }]);
    expect(long.width).toBeGreaterThan(short.width + 100);
    expect(short.height).toBeGreaterThan(2); // the legend is taller than the tiny map
    expect(() => renderQuicklook(new Uint8Array(3), 2, 2, legend)).toThrow('class map has 3 pixels, expected 2x2');
  });
});
