import type { ObjectStore } from '@fleet/storage';
import type { ScannedFile, ScannedSource } from './mosaic-layout';
import type { SourceRoleName } from './source-roles';
import { openStoredRaster } from './stored-raster';

/** GeoTIFF dalles, any case: IGN deliveries mix `.tif` and `.TIF`. */
const GEOTIFF_NAME = /\.tiff?$/i;
const JPEG2000_NAME = /\.jp2$/i;
/** Header reads in flight per source: S3 latency, not bandwidth, bounds a 400-dalle scan. */
const SCAN_CONCURRENCY = 8;

/**
 * The keys of a source's listing that are GeoTIFF dalles, in listing order. Dot-named files
 * (`.hidden.tif`, `...tif`) and files in dot-named folders are dalles like any other: skipping
 * them would leave a silent hole in the map. One that is not a TIFF (a macOS `._x.tif`
 * resource fork) then fails the scan with an error naming it, which the user can act on.
 */
export function geotiffKeys(keys: readonly string[]): string[] {
  return keys.filter((k) => GEOTIFF_NAME.test(k));
}

/**
 * Finds a source's GeoTIFFs, in nested folders too (IGN delivers a département as
 * `.../1_DONNEES_LIVRAISON_.../OHR_RVB_0M20_JP2-E080_LAMB93_D092_2024/*.tif` once converted),
 * and reads their headers only (a few KB per file, by range reads on S3), never pixel data:
 * the coordinator must stay light on a 400-dalle département. Other files (.aux.xml, .tfw,
 * .md5, .shp of the dalle index, ...) are ignored. `file` names one file instead of a folder.
 * Throws, naming the location, when the source holds no GeoTIFF.
 */
export async function scanSource(store: ObjectStore, role: SourceRoleName, file?: string): Promise<ScannedSource> {
  let keys: string[];
  if (file !== undefined) {
    keys = [file];
  } else {
    const all = await store.list('');
    keys = geotiffKeys(all);
    if (keys.length === 0) throw new Error(noGeoTiffMessage(store.location, role, all));
  }
  const files: ScannedFile[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      files[i] = await scanFile(store, keys[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, keys.length) }, worker));
  return { role, location: store.location, files };
}

async function scanFile(store: ObjectStore, key: string): Promise<ScannedFile> {
  const raster = await openStoredRaster(store, key);
  let header;
  let masks;
  try {
    const { readWindow: _r, readWindowFloat: _f, masks: _m, close: _c, ...rest } = raster;
    header = rest;
    masks = await raster.masks();
  } finally {
    await raster.close();
  }
  const etag = (await store.head(key))?.etag;
  const scanned: ScannedFile = { key, header };
  if (etag !== undefined) scanned.etag = etag;
  if (masks.alphaBand !== undefined || masks.maskImage !== undefined) scanned.masks = masks;
  return scanned;
}

function noGeoTiffMessage(location: string, role: SourceRoleName, keys: readonly string[]): string {
  const jp2 = keys.filter((k) => JPEG2000_NAME.test(k)).length;
  if (jp2 > 0) {
    return `no GeoTIFF found in ${location} (--${role}): it holds ${jp2} JPEG 2000 (.jp2) file(s); convert them to GeoTIFF first (fleet prepare)`;
  }
  // an empty or missing folder/prefix: the location itself says it all
  return keys.length === 0 ? `no GeoTIFF found in ${location}` : `no GeoTIFF found in ${location} (--${role}): none of its ${keys.length} file(s) is a .tif/.tiff`;
}
