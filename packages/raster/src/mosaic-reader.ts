import { intersectRects, type PixelRect } from '@fleet/grid';
import type { ObjectStore } from '@fleet/storage';
import { DatasetMask } from './dataset-mask';
import { bilinearAtPixelCentres, elevationFromSurfaces, markSurfaceNoData, surfaceRectFor } from './elevation-band';
import type { RasterFile } from './geotiff-reader';
import type { LaidOutDalle } from './mosaic-layout';
import { ScratchBuffers } from './scratch-buffers';
import { PRIMARY_ROLES, SOURCE_ROLES, type ModelBand, type SourceRoleName } from './source-roles';
import { openStoredRaster } from './stored-raster';

export interface MosaicSource {
  role: SourceRoleName;
  store: ObjectStore;
  dalles: readonly LaidOutDalle[];
}

export interface MosaicWindow {
  /**
   * One uint8 plane per requested model band, window-sized; consecutive views of one buffer
   * (except a computed E plane).
   */
  planes: Uint8Array<ArrayBufferLike>[];
  /** 1 where every source the window reads has data, 0 elsewhere. */
  valid: Uint8Array;
  validCount: number;
}

/**
 * Window-sized planes of bands a nodata or alpha test needs but the model does not (an IRC
 * source's R and G), reused: they live only while one dalle's pixels are tested.
 */
const testedPlanes = new ScratchBuffers(8, 4 * 1024 * 1024);

interface Closable {
  close(): Promise<void>;
}

/**
 * Reads model windows from a mosaic of dalles in several sources, opening each file once
 * (bounded cache) and reading only the tiles a window touches.
 *
 * A pixel is valid only where the primary source (stack/rgb) and every other source the
 * model's bands come from have data: inside one of their dalles, not equal to the dalle's
 * nodata value in all its bands, not 0 in its alpha band, not masked by its internal mask.
 * A class computed from a missing band would look like a real one, so such pixels become
 * nodata in the map instead (a département's edge where one product stops earlier).
 *
 * E comes from a stack or elevation source; failing those, when the model asks for E and
 * --dsm/--dtm were given, it is computed as clip(round((DSM - DTM) * 5), 0, 255) from both
 * surfaces resampled bilinearly onto the window (see elevation-band.ts).
 */
export class MosaicReader {
  private readonly open = new Map<string, Promise<Closable>>();

  constructor(private readonly sources: readonly MosaicSource[], private readonly maxOpenFiles = 64) {}

  /**
   * The window's bands in `bandOrder`. `into`: a buffer of bands x width x height bytes to
   * read into (zeroed first) instead of a fresh one, so a caller that knows when a window's
   * pixels are no longer needed (after inference) can reuse its buffers: a 512 px window of
   * 5 bands is 1.3 MB, and fresh buffers of that size are what makes V8 run full collections.
   */
  async read(window: PixelRect, bandOrder: readonly ModelBand[], options: { into?: Uint8Array } = {}): Promise<MosaicWindow> {
    const n = window.width * window.height;
    const { into } = options;
    if (into && into.length !== bandOrder.length * n) {
      throw new RangeError(`read into ${into.length} bytes: a ${window.width}x${window.height} px window of ${bandOrder.length} band(s) is ${bandOrder.length * n}`);
    }
    // One buffer, band after band: a full-size window is then already the model's
    // [bands][height][width] input (padToPatch hands it on without a copy).
    const pixels = into ? into.fill(0) : new Uint8Array(bandOrder.length * n);
    const planes: Uint8Array<ArrayBufferLike>[] = bandOrder.map((_, b) => pixels.subarray(b * n, (b + 1) * n));
    const valid = new Uint8Array(n).fill(1);
    const provided = new Set<ModelBand>();
    for (const source of this.sources) {
      const role = SOURCE_ROLES[source.role];
      if (!role.onMosaicGrid) continue;
      const mapping = role.bands as Partial<Record<ModelBand, number>>;
      const wanted = bandOrder.map((b, i) => [i, mapping[b]] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
      wanted.forEach(([i]) => provided.add(bandOrder[i]!));
      if (wanted.length === 0 && !PRIMARY_ROLES.includes(source.role)) continue;
      const has = await this.readOnGrid(source, window, planes, wanted);
      // indexOf is native: most windows lie wholly inside every source
      if (has && has.indexOf(0) !== -1) keepWhereBoth(valid, has);
    }
    const e = bandOrder.indexOf('E');
    if (e >= 0 && !provided.has('E')) {
      const dsm = this.sources.find((s) => s.role === 'dsm');
      const dtm = this.sources.find((s) => s.role === 'dtm');
      if (dsm && dtm) {
        const [top, ground] = await Promise.all([this.readSurface(dsm, window), this.readSurface(dtm, window)]);
        const computed = elevationFromSurfaces(top, ground);
        planes[e] = computed.e;
        for (let i = 0; i < n; i++) valid[i] = valid[i]! & computed.valid[i]!;
      }
    }
    let validCount = n;
    if (valid.indexOf(0) !== -1) {
      validCount = 0;
      for (let i = 0; i < n; i++) validCount += valid[i]!;
    }
    return { planes, valid, validCount };
  }

  /**
   * Copies the wanted bands of one on-grid source into `planes`; returns where it has data, or
   * undefined when it has data everywhere in the window (the common case: no per-window
   * buffer to allocate, fill and scan).
   */
  private async readOnGrid(source: MosaicSource, window: PixelRect, planes: Uint8Array[], wanted: ReadonlyArray<readonly [number, number]>): Promise<Uint8Array | undefined> {
    const n = window.width * window.height;
    let has: Uint8Array | undefined;
    // clips of dalles that are data everywhere: marked in `has` only if something is missing
    const whole: PixelRect[] = [];
    const mustTest = () => {
      if (!has) {
        has = new Uint8Array(n);
        for (const clip of whole) markData(has, window, [], clip, undefined, undefined, undefined);
      }
      return has;
    };
    const imageBands = SOURCE_ROLES[source.role].minBands;
    for (const dalle of source.dalles) {
      const clip = intersectRects(window, dalle);
      if (!clip) continue;
      const file = (await this.cached(source, dalle.uri, () => openStoredRaster(source.store, dalle.uri))) as RasterFile;
      if (dalle.noData === undefined && dalle.alphaBand === undefined && dalle.maskImage === undefined) {
        // Every pixel of the dalle is data: its wanted bands go straight into the window's
        // planes (the window placed in the dalle's own pixel coordinates), no copy.
        const placed = { x: window.x - dalle.x, y: window.y - dalle.y, width: window.width, height: window.height };
        if (wanted.length > 0) await file.readWindow(placed, { bands: wanted.map((w) => w[1]), into: wanted.map((w) => planes[w[0]]!) });
        whole.push(clip);
        if (has) markData(has, window, [], clip, undefined, undefined, undefined);
        continue;
      }
      const local = { x: clip.x - dalle.x, y: clip.y - dalle.y, width: clip.width, height: clip.height };
      const placed = { x: window.x - dalle.x, y: window.y - dalle.y, width: window.width, height: window.height };
      // The wanted bands go straight into the window's planes, as above; the test needs every
      // image band where nodata is declared ("nodata in all bands") and the alpha band: those
      // the window does not hold are read into scratch window-sized planes, in the same read
      // (one sample set, so each block is still decoded once).
      const tested = dalle.noData === undefined ? [] : Array.from({ length: imageBands }, (_, i) => i);
      if (dalle.alphaBand !== undefined) tested.push(dalle.alphaBand);
      const extraBands = tested.filter((b) => !wanted.some((w) => w[1] === b));
      const extra = extraBands.map(() => testedPlanes.take(n));
      try {
        const bands = [...wanted.map((w) => w[1]), ...extraBands];
        if (bands.length > 0) await file.readWindow(placed, { bands, into: [...wanted.map((w) => planes[w[0]]!), ...extra] });
        const bandPlane = (band: number) => {
          const w = wanted.find((x) => x[1] === band);
          return w ? planes[w[0]]! : extra[extraBands.indexOf(band)]!;
        };
        const mask = dalle.maskImage === undefined ? undefined : await this.readMask(source, dalle, local);
        const alpha = dalle.alphaBand === undefined ? undefined : bandPlane(dalle.alphaBand);
        const image = dalle.noData === undefined ? [] : tested.filter((b) => b < imageBands).map(bandPlane);
        markData(mustTest(), window, image, clip, dalle.noData, alpha, mask);
      } finally {
        for (const plane of extra) testedPlanes.give(plane);
      }
    }
    return has ?? (coversAll(whole, window) ? undefined : mustTest());
  }

  /** A DSM or DTM sampled at the window's pixel centres, NaN where it has no data. */
  private async readSurface(source: MosaicSource, window: PixelRect): Promise<Float32Array> {
    const grid = source.dalles[0]?.grid;
    if (!grid) throw new Error(`--${source.role} source ${source.store.location} has no grid in the run spec (planned by an older coordinator?)`);
    const rect = surfaceRectFor(window, grid);
    const values = new Float32Array(rect.width * rect.height).fill(Number.NaN);
    for (const dalle of source.dalles) {
      const clip = intersectRects(rect, dalle);
      if (!clip) continue;
      const local = { x: clip.x - dalle.x, y: clip.y - dalle.y, width: clip.width, height: clip.height };
      const file = (await this.cached(source, dalle.uri, () => openStoredRaster(source.store, dalle.uri))) as RasterFile;
      const [samples] = await file.readWindowFloat(local, { bands: [0] });
      markSurfaceNoData(samples!, dalle.noData);
      if (dalle.maskImage !== undefined) {
        const mask = await this.readMask(source, dalle, local);
        mask.forEach((m, i) => {
          if (!m) samples![i] = Number.NaN;
        });
      }
      for (let r = 0; r < clip.height; r++) {
        values.set(samples!.subarray(r * clip.width, (r + 1) * clip.width), (clip.y - rect.y + r) * rect.width + (clip.x - rect.x));
      }
    }
    return bilinearAtPixelCentres(values, rect, grid, window);
  }

  private async readMask(source: MosaicSource, dalle: LaidOutDalle, local: PixelRect): Promise<Uint8Array> {
    const mask = (await this.cached(source, `${dalle.uri}\u0000mask`, () => DatasetMask.open(source.store, dalle.uri, dalle.maskImage!))) as DatasetMask;
    return mask.read(local);
  }

  /** An open file (or mask) from the LRU cache, opened on first use. */
  private cached(source: MosaicSource, name: string, open: () => Promise<Closable>): Promise<Closable> {
    const id = `${source.store.location}\u0000${name}`;
    let file = this.open.get(id);
    if (file) {
      // refresh LRU position
      this.open.delete(id);
      this.open.set(id, file);
      return file;
    }
    file = open();
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

/** Whether the clips tile the whole window: their areas add up to it and no two overlap. */
function coversAll(clips: readonly PixelRect[], window: PixelRect): boolean {
  let area = 0;
  for (const c of clips) area += c.width * c.height;
  if (area !== window.width * window.height) return false;
  for (let i = 0; i < clips.length; i++) for (let j = i + 1; j < clips.length; j++) if (intersectRects(clips[i]!, clips[j]!)) return false;
  return true;
}

/**
 * Sets `has` to 1 for the clip's pixels that hold data (see MosaicReader). `bands` and `alpha`
 * are window-sized planes; `mask` is clip-sized.
 */
function markData(
  has: Uint8Array,
  window: PixelRect,
  bands: Uint8Array[],
  clip: PixelRect,
  noData: number | undefined,
  alpha: Uint8Array | undefined,
  mask: Uint8Array | undefined,
): void {
  // Most deliveries declare no nodata, alpha or mask: whole rows are data, no per-pixel test.
  const everyPixel = alpha === undefined && mask === undefined && noData === undefined;
  for (let r = 0; r < clip.height; r++) {
    const dst = (clip.y - window.y + r) * window.width + (clip.x - window.x);
    if (everyPixel) {
      has.fill(1, dst, dst + clip.width);
      continue;
    }
    if (alpha === undefined && mask === undefined) {
      markNotNoData(has, bands, dst, clip.width, noData!);
      continue;
    }
    for (let c = 0; c < clip.width; c++) {
      const i = dst + c;
      if (alpha && alpha[i] === 0) continue;
      if (mask && mask[r * clip.width + c] === 0) continue;
      if (noData !== undefined && isNoDataInAllBands(bands, i, noData)) continue;
      has[i] = 1;
    }
  }
}

/**
 * `has[i] = 1` for i in [from, from + count) where some band differs from `noData`: the nodata
 * test alone (no alpha, no mask), a loop per band count instead of a call per pixel (a
 * quarter of a window read's CPU when every dalle declared nodata, BENCHMARKS.md issue 13).
 */
function markNotNoData(has: Uint8Array, bands: Uint8Array[], from: number, count: number, noData: number): void {
  const end = from + count;
  const [a, b, c] = bands;
  if (bands.length === 1) {
    for (let i = from; i < end; i++) if (a![i] !== noData) has[i] = 1;
  } else if (bands.length === 3) {
    for (let i = from; i < end; i++) if (a![i] !== noData || b![i] !== noData || c![i] !== noData) has[i] = 1;
  } else {
    for (let i = from; i < end; i++) if (!isNoDataInAllBands(bands, i, noData)) has[i] = 1;
  }
}

/** `valid[i] &= has[i]` for every pixel, four at a time where both buffers are word-aligned. */
function keepWhereBoth(valid: Uint8Array, has: Uint8Array): void {
  const n = valid.length;
  let done = 0;
  if (valid.byteOffset % 4 === 0 && has.byteOffset % 4 === 0) {
    const words = n >>> 2;
    const v32 = new Uint32Array(valid.buffer, valid.byteOffset, words);
    const h32 = new Uint32Array(has.buffer, has.byteOffset, words);
    for (let i = 0; i < words; i++) v32[i] = v32[i]! & h32[i]!;
    done = words * 4;
  }
  for (let i = done; i < n; i++) valid[i] = valid[i]! & has[i]!;
}

function isNoDataInAllBands(bands: Uint8Array[], i: number, noData: number): boolean {
  for (let b = 0; b < bands.length; b++) if (bands[b]![i] !== noData) return false;
  return true;
}
