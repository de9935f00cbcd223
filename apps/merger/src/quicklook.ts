import { outputKeys, type RunSpec } from '@fleet/jobs';
import { LocalFileReader, readClassPreview, storeRangeReader } from '@fleet/raster';
import type { ObjectStore } from '@fleet/storage';
import { classColorMap } from './palette';
import { encodeRgbaPng } from './png-image';
import { type LegendSwatch, quicklookScale, renderQuicklook } from './quicklook-image';
import type { RunReport } from './run-report';

/** Longest side of the quicklook's map, in pixels (a 5 km dalle at 20 cm: 25 mosaic px per pixel). */
export const QUICKLOOK_MAX_SIDE = 1024;

/**
 * quicklook.png: the whole run reduced to at most QUICKLOOK_MAX_SIDE pixels, each merged
 * block read from the smallest of its COG overviews that is fine enough (so a run of
 * hundreds of blocks reads a few KB of each, over S3 too), in the FLAIR palette, with a legend.
 */
export async function writeQuicklook(spec: RunSpec, report: RunReport, store: ObjectStore, maxSide = QUICKLOOK_MAX_SIDE): Promise<{ width: number; height: number; mapWidth: number; mapHeight: number; swatches: LegendSwatch[] }> {
  const { factor, width, height } = quicklookScale(spec.mosaic.width, spec.mosaic.height, maxSide);
  const map = new Uint8Array(width * height);
  const blocks = new Map(spec.blocks.map((b) => [b.id, b]));
  for (const result of report.blocks) {
    const block = blocks.get(result.id);
    if (!block) throw new Error(`run ${spec.runId}: block ${result.id} was merged but is not in the run spec`);
    const x0 = Math.floor(block.x / factor);
    const y0 = Math.floor(block.y / factor);
    const w = Math.max(1, Math.min(width, Math.ceil((block.x + block.width) / factor)) - x0);
    const h = Math.max(1, Math.min(height, Math.ceil((block.y + block.height) / factor)) - y0);
    // the block's own key: a carried block's COG is under the older run that made it
    const key = result.key;
    const localPath = store.localPath(key);
    const local = localPath ? new LocalFileReader(localPath) : undefined;
    try {
      const preview = await readClassPreview(local ?? storeRangeReader(store, key), w, h);
      for (let y = 0; y < h; y++) {
        // where blocks share a quicklook pixel, keep data over another block's nodata
        for (let x = 0; x < w; x++) {
          const v = preview[y * w + x]!;
          if (v !== 0) map[(y0 + y) * width + x0 + x] = v;
        }
      }
    } finally {
      await local?.close();
    }
  }
  const palette = classColorMap(spec.model.classes);
  const legend = spec.model.classes.map((c) => ({ id: c.id, name: c.name, rgb: palette[c.id]! }));
  const image = renderQuicklook(map, width, height, legend);
  await store.put(outputKeys.quicklook(spec.runId), encodeRgbaPng(image.rgba, image.width, image.height));
  return { width: image.width, height: image.height, mapWidth: width, mapHeight: height, swatches: image.swatches };
}
