import type { ObjectStore } from '@fleet/storage';
import type { ScannedSource } from './mosaic-layout';
import type { SourceRoleName } from './source-roles';
import { openStoredRaster } from './stored-raster';

const GEOTIFF_NAME = /\.(tif|tiff)$/i;

/**
 * Finds a source's GeoTIFFs and reads their headers only (a few KB per file, by range reads
 * on S3), never pixel data: the coordinator must stay light on a 400-dalle département.
 * `location` may name a folder/prefix or one file.
 */
export async function scanSource(store: ObjectStore, role: SourceRoleName, file?: string): Promise<ScannedSource> {
  const keys = file !== undefined ? [file] : (await store.list('')).filter((k) => GEOTIFF_NAME.test(k));
  const files = [];
  for (const key of keys) {
    const raster = await openStoredRaster(store, key);
    try {
      const { readWindow: _r, readWindowFloat: _f, close: _c, ...header } = raster;
      const etag = (await store.head(key))?.etag;
      files.push(etag === undefined ? { key, header } : { key, header, etag });
    } finally {
      await raster.close();
    }
  }
  return { role, location: store.location, files };
}
