import { intersectRects, type PixelRect } from '@fleet/grid';
import type { ObjectStore } from '@fleet/storage';
import type { RasterFile } from './geotiff-reader';
import type { LaidOutDalle } from './mosaic-layout';
import { PRIMARY_ROLES, SOURCE_ROLES, type ModelBand, type SourceRoleName } from './source-roles';
import { openStoredRaster } from './stored-raster';

export interface MosaicSource {
  role: SourceRoleName;
  store: ObjectStore;
  dalles: readonly LaidOutDalle[];
}

export interface MosaicWindow {
  /** One uint8 plane per requested model band, window-sized. */
  planes: Uint8Array[];
  /** 1 where a primary dalle covers the pixel with data, 0 elsewhere. */
  valid: Uint8Array;
  validCount: number;
}

/**
 * Reads model windows from a mosaic of dalles in several sources, opening each file once
 * (bounded cache) and reading only the tiles a window touches. Pixels outside every primary
 * dalle, or equal to the dalle's nodata value in all its bands, are invalid.
 */
export class MosaicReader {
  private readonly open = new Map<string, Promise<RasterFile>>();

  constructor(private readonly sources: readonly MosaicSource[], private readonly maxOpenFiles = 64) {}

  async read(window: PixelRect, bandOrder: readonly ModelBand[]): Promise<MosaicWindow> {
    const n = window.width * window.height;
    const planes = bandOrder.map(() => new Uint8Array(n));
    const valid = new Uint8Array(n);
    for (const source of this.sources) {
      const mapping = SOURCE_ROLES[source.role].bands as Partial<Record<ModelBand, number>>;
      const wanted = bandOrder.map((b, i) => [i, mapping[b]] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
      const primary = PRIMARY_ROLES.includes(source.role);
      if (wanted.length === 0 && !primary) continue;
      for (const dalle of source.dalles) {
        const clip = intersectRects(window, dalle);
        if (!clip) continue;
        const file = await this.file(source, dalle);
        const local = { x: clip.x - dalle.x, y: clip.y - dalle.y, width: clip.width, height: clip.height };
        const bandsToRead = primary ? Array.from({ length: SOURCE_ROLES[source.role].minBands }, (_, i) => i) : wanted.map((w) => w[1]);
        const read = await file.readWindow(local, { bands: bandsToRead });
        for (const [planeIndex, band] of wanted) copyInto(planes[planeIndex]!, window, read[bandsToRead.indexOf(band)]!, clip);
        if (primary) markValid(valid, window, read, clip, dalle.noData);
      }
    }
    let validCount = 0;
    for (let i = 0; i < n; i++) validCount += valid[i]!;
    return { planes, valid, validCount };
  }

  private file(source: MosaicSource, dalle: LaidOutDalle): Promise<RasterFile> {
    const id = `${source.store.location}\u0000${dalle.uri}`;
    let file = this.open.get(id);
    if (file) {
      // refresh LRU position
      this.open.delete(id);
      this.open.set(id, file);
      return file;
    }
    file = openStoredRaster(source.store, dalle.uri);
    file.catch(() => this.open.delete(id));
    this.open.set(id, file);
    if (this.open.size > this.maxOpenFiles) {
      const [oldest] = this.open.keys();
      const evicted = this.open.get(oldest!)!;
      this.open.delete(oldest!);
      void evicted.then((f) => f.close()).catch(() => undefined);
    }
    return file;
  }

  async close(): Promise<void> {
    const files = [...this.open.values()];
    this.open.clear();
    await Promise.all(files.map((f) => f.then((x) => x.close()).catch(() => undefined)));
  }
}

function copyInto(plane: Uint8Array, window: PixelRect, src: Uint8Array, clip: PixelRect): void {
  for (let r = 0; r < clip.height; r++) {
    const from = r * clip.width;
    plane.set(src.subarray(from, from + clip.width), (clip.y - window.y + r) * window.width + (clip.x - window.x));
  }
}

function markValid(valid: Uint8Array, window: PixelRect, bands: Uint8Array[], clip: PixelRect, noData: number | undefined): void {
  for (let r = 0; r < clip.height; r++) {
    const dst = (clip.y - window.y + r) * window.width + (clip.x - window.x);
    for (let c = 0; c < clip.width; c++) {
      const i = r * clip.width + c;
      const isNoData = noData !== undefined && bands.every((b) => b[i] === noData);
      if (!isNoData) valid[dst + c] = 1;
    }
  }
}
