import type { ObjectStore } from '@fleet/storage';
import { openGeoTiff, type RasterFile } from './geotiff-reader';
import type { RangeReader } from './range-reader';

/** A RangeReader over one object of a store: ranged GETs on S3, so only headers and needed tiles travel. */
export function storeRangeReader(store: ObjectStore, key: string): RangeReader {
  let size: Promise<number> | undefined;
  return {
    name: `${store.location.replace(/\/$/, '')}/${key}`,
    size: () =>
      (size ??= store.head(key).then((h) => {
        if (!h) throw new Error(`${store.location}/${key}: object not found`);
        return h.size;
      })),
    read: (offset, length) => store.getRange(key, offset, length),
  };
}

/** Opens a GeoTIFF held in a store: directly from disk for a local store, by range reads otherwise. */
export function openStoredRaster(store: ObjectStore, key: string): Promise<RasterFile> {
  const path = store.localPath(key);
  return openGeoTiff(path ?? storeRangeReader(store, key));
}
