import { offsetGeoTransform } from '@fleet/grid';
import { outputKeys, type RunSpec } from '@fleet/jobs';
import { posix } from 'node:path';
import type { RunChanges } from './run-changes';
import type { RunReport } from './run-report';
import { wgs84Footprint } from './wgs84-footprint';

export const STAC_VERSION = '1.0.0';
export const STAC_EXTENSIONS = {
  projection: 'https://stac-extensions.github.io/projection/v1.1.0/schema.json',
  raster: 'https://stac-extensions.github.io/raster/v1.1.0/schema.json',
  // v1.0.0: class names with spaces are allowed (v2.0.0 restricts `name` to a slug)
  classification: 'https://stac-extensions.github.io/classification/v1.0.0/schema.json',
};
const COG_MEDIA_TYPE = 'image/tiff; application=geotiff; profile=cloud-optimized';

/** hrefs are relative to the file that holds them, so the catalogue moves with the outputs. */
const relative = (fromKey: string, toKey: string) => {
  const rel = posix.relative(posix.dirname(fromKey), toKey);
  return rel.startsWith('.') ? rel : `./${rel}`;
};

function stacClasses(spec: RunSpec) {
  return spec.model.classes.map((c) => ({
    value: c.id,
    name: c.name,
    description: c.name,
    color_hint: c.color.replace('#', '').toUpperCase(),
  }));
}

/**
 * Pure: a STAC 1.0.0 catalogue of a run: a collection and one item per merged block, each
 * block's COG as the item's data asset, with the projection (EPSG, shape, transform),
 * raster (uint8, nodata 0) and classification (FLAIR classes and colours) extensions.
 * `datetime` is when the run was created: the imagery's acquisition date is not known here.
 * Items sit under the run (runs/<runId>/stac/items/), the collection at the top (the published
 * run's); a carried block's asset points at its COG under the older run that made it. With
 * `changes`, each item's properties carry its hectares gained and lost against the previous run.
 * Returns object keys and JSON documents.
 */
export function buildStacCatalogue(spec: RunSpec, report: RunReport, changes?: RunChanges): Array<{ key: string; json: object }> {
  const classes = stacClasses(spec);
  const extensions = [STAC_EXTENSIONS.projection, STAC_EXTENSIONS.raster, STAC_EXTENSIONS.classification];
  const collectionKey = outputKeys.stacCollection;
  const blocksById = new Map(spec.blocks.map((b) => [b.id, b]));
  const resolution = spec.mosaic.geoTransform[1];
  const bboxes: Array<[number, number, number, number]> = [];

  const items = report.blocks.map((result) => {
    const block = blocksById.get(result.id);
    if (!block) throw new Error(`run ${spec.runId}: block ${result.id} was merged but is not in the run spec`);
    const gt = offsetGeoTransform(spec.mosaic.geoTransform, block.x, block.y);
    const projBbox: [number, number, number, number] = [gt[0], gt[3] + block.height * gt[5], gt[0] + block.width * gt[1], gt[3]];
    const footprint = wgs84Footprint(spec.mosaic.epsg, projBbox);
    if (footprint) bboxes.push(footprint.bbox);
    const key = outputKeys.stacItem(spec.runId, block.id);
    const change = changes?.blocks[block.id];
    return {
      key,
      json: {
        type: 'Feature',
        stac_version: STAC_VERSION,
        stac_extensions: extensions,
        id: block.id,
        collection: spec.runId,
        geometry: footprint ? { type: 'Polygon', coordinates: [footprint.ring] } : null,
        ...(footprint ? { bbox: footprint.bbox } : {}),
        properties: {
          datetime: spec.createdAt,
          created: report.finishedAt,
          'proj:epsg': spec.mosaic.epsg,
          'proj:shape': [block.height, block.width],
          'proj:transform': [gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]],
          'proj:bbox': projBbox,
          ...(change ? { 'fleet:changes': { since: changes!.previous, gained_ha: change.gainedHa, lost_ha: change.lostHa, changed_pixels: change.changedPixels } } : {}),
        },
        links: [
          { rel: 'root', href: relative(key, collectionKey), type: 'application/json' },
          { rel: 'parent', href: relative(key, collectionKey), type: 'application/json' },
          { rel: 'collection', href: relative(key, collectionKey), type: 'application/json' },
        ],
        assets: {
          landcover: {
            href: relative(key, result.key),
            type: COG_MEDIA_TYPE,
            title: `FLAIR land cover, block ${block.id}${result.incomplete ? ' (incomplete: some windows failed)' : ''}`,
            roles: ['data'],
            'raster:bands': [{ data_type: 'uint8', nodata: 0, sampling: 'area', spatial_resolution: resolution }],
            'classification:classes': classes,
          },
        },
      },
    };
  });

  // A CRS without a footprint still needs an extent: the whole world is the honest answer.
  const spatial = bboxes.length > 0
    ? [Math.min(...bboxes.map((b) => b[0])), Math.min(...bboxes.map((b) => b[1])), Math.max(...bboxes.map((b) => b[2])), Math.max(...bboxes.map((b) => b[3]))]
    : [-180, -90, 180, 90];
  const collection = {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: extensions,
    id: spec.runId,
    title: `FLAIR land cover, run ${spec.runId}`,
    description: `Land-cover map by ${spec.model.name} ${spec.model.version} (FLAIR classes, 0 = no data), one Cloud Optimized GeoTIFF per block.`,
    license: 'proprietary',
    extent: { spatial: { bbox: [spatial] }, temporal: { interval: [[spec.createdAt, report.finishedAt]] } },
    summaries: { 'proj:epsg': [spec.mosaic.epsg], 'classification:classes': classes },
    links: [
      { rel: 'root', href: './collection.json', type: 'application/json' },
      ...items.map((i) => ({ rel: 'item', href: relative(collectionKey, i.key), type: 'application/geo+json' })),
    ],
    assets: {
      mosaic: { href: relative(collectionKey, outputKeys.mosaicVrt), type: 'application/xml', title: 'GDAL VRT over all blocks', roles: ['data'] },
      quicklook: { href: relative(collectionKey, outputKeys.quicklook(spec.runId)), type: 'image/png', title: 'Quicklook with legend', roles: ['overview'] },
      areas: { href: relative(collectionKey, outputKeys.areasCsv(spec.runId)), type: 'text/csv', title: 'Hectares per class, per block and in total', roles: ['metadata'] },
      ...(changes
        ? {
            changes: { href: relative(collectionKey, outputKeys.changes(spec.runId)), type: 'application/json', title: `Hectares gained and lost per class since run ${changes.previous ?? '(none)'}`, roles: ['metadata'] },
            'changes-overview': { href: relative(collectionKey, outputKeys.changesPng(spec.runId)), type: 'image/png', title: 'Where pixels changed', roles: ['overview'] },
          }
        : {}),
    },
  };
  return [{ key: collectionKey, json: collection }, ...items];
}
