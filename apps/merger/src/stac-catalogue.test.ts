import type { RunSpec } from '@fleet/jobs';
import { stacCollectionProblems, stacItemProblems } from '../../../test/support/stac-check';
import { buildRunReport } from './run-report';
import { buildStacCatalogue } from './stac-catalogue';

const spec = {
  runId: 'run-x',
  createdAt: '2026-11-24T10:00:00.000Z',
  mosaic: { width: 50_000, height: 25_000, geoTransform: [645000, 0.2, 0, 6865000, 0, -0.2], epsg: 2154 },
  model: { name: 'flair-inc', version: '1', classes: [{ id: 1, name: 'building', color: '#db0e9a' }, { id: 5, name: 'water', color: '#1553ae' }] },
  patch: 512,
  overlap: 128,
  windowCount: 4,
  blocks: [{ id: 'D-0-0', x: 0, y: 0, width: 25_000, height: 25_000 }, { id: 'D-1-0', x: 25_000, y: 0, width: 25_000, height: 25_000 }],
} as unknown as RunSpec;

const report = buildRunReport(spec, { windows_done: 4 }, {}, [
  { blockId: 'D-1-0', key: 'runs/run-x/blocks/D-1-0.tif', bytes: 1, classPixels: { '5': 1 }, failedWindows: 0, mergeMs: 1 },
  { blockId: 'D-0-0', key: 'runs/run-w/blocks/D-0-0.tif', bytes: 1, classPixels: { '1': 1 }, failedWindows: 0, mergeMs: 1 },
], new Date('2026-11-24T10:01:00.000Z'));

describe('buildStacCatalogue', () => {
  const docs = buildStacCatalogue(spec, report);
  const byKey = new Map(docs.map((d) => [d.key, d.json as Record<string, any>])); // eslint-disable-line @typescript-eslint/no-explicit-any

  it('writes a valid collection and one valid item per block at the documented keys', () => {
    expect(docs.map((d) => d.key)).toEqual(['stac/collection.json', 'runs/run-x/stac/items/D-0-0.json', 'runs/run-x/stac/items/D-1-0.json']);
    expect(stacCollectionProblems(byKey.get('stac/collection.json')!)).toEqual([]);
    for (const key of ['runs/run-x/stac/items/D-0-0.json', 'runs/run-x/stac/items/D-1-0.json']) expect(stacItemProblems(byKey.get(key)!)).toEqual([]);
  });

  it('gives each item its projection, raster and class metadata, with hrefs relative to the item', () => {
    const item = byKey.get('runs/run-x/stac/items/D-1-0.json')!;
    expect(item.properties['proj:epsg']).toBe(2154);
    expect(item.properties['proj:shape']).toEqual([25_000, 25_000]);
    expect(item.properties['proj:transform']).toEqual([0.2, 0, 650000, 0, -0.2, 6865000]);
    expect(item.properties['proj:bbox']).toEqual([650000, 6860000, 655000, 6865000]);
    expect(item.assets.landcover.href).toBe('../../blocks/D-1-0.tif');
    // a block carried from an older run: its COG under that run's prefix
    expect(byKey.get('runs/run-x/stac/items/D-0-0.json')!.assets.landcover.href).toBe('../../../run-w/blocks/D-0-0.tif');
    expect(item.assets.landcover.type).toBe('image/tiff; application=geotiff; profile=cloud-optimized');
    expect(item.assets.landcover['classification:classes']).toEqual([
      { value: 1, name: 'building', description: 'building', color_hint: 'DB0E9A' },
      { value: 5, name: 'water', description: 'water', color_hint: '1553AE' },
    ]);
    expect(item.links).toContainEqual({ rel: 'collection', href: '../../../../stac/collection.json', type: 'application/json' });
    // Lambert-93 x 650-655 km, y 6860-6865 km lies west of Paris, around 2.3 E, 48.8 N
    expect(item.bbox[0]).toBeGreaterThan(2.2);
    expect(item.bbox[2]).toBeLessThan(2.45);
    expect(item.bbox[1]).toBeGreaterThan(48.75);
    expect(item.bbox[3]).toBeLessThan(48.9);
  });

  it('puts each block\'s hectares gained and lost since the previous run in its item, and links changes.json', () => {
    const changes = { runId: 'run-x', previous: 'run-w', blocks: { 'D-1-0': { gainedHa: { '5': 2 }, lostHa: { '1': 2 }, changedPixels: 500_000, status: 'compared' as const } }, total: { gainedHa: { '5': 2 }, lostHa: { '1': 2 }, changedPixels: 500_000 }, extent: [0, 0, 1, 1] as [number, number, number, number], epsg: 2154 };
    const withChanges = new Map(buildStacCatalogue(spec, report, changes).map((d) => [d.key, d.json as Record<string, any>])); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(withChanges.get('runs/run-x/stac/items/D-1-0.json')!.properties['fleet:changes']).toEqual({ since: 'run-w', gained_ha: { '5': 2 }, lost_ha: { '1': 2 }, changed_pixels: 500_000 });
    expect(withChanges.get('runs/run-x/stac/items/D-0-0.json')!.properties['fleet:changes']).toBeUndefined();
    expect(withChanges.get('stac/collection.json')!.assets.changes.href).toBe('../runs/run-x/changes.json');
  });

  it('spans the blocks in the collection extent and links every item', () => {
    const collection = byKey.get('stac/collection.json')!;
    const [a, b] = [byKey.get('runs/run-x/stac/items/D-0-0.json')!.bbox, byKey.get('runs/run-x/stac/items/D-1-0.json')!.bbox];
    expect(collection.extent.spatial.bbox).toEqual([[Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])]]);
    expect(collection.extent.temporal.interval).toEqual([['2026-11-24T10:00:00.000Z', '2026-11-24T10:01:00.000Z']]);
    expect(collection.links.filter((l: { rel: string }) => l.rel === 'item').map((l: { href: string }) => l.href)).toEqual(['../runs/run-x/stac/items/D-0-0.json', '../runs/run-x/stac/items/D-1-0.json']);
    expect(collection.assets.quicklook.href).toBe('../runs/run-x/quicklook.png');
    expect(collection.assets.mosaic.href).toBe('../mosaic.vrt');
  });

  it('falls back to a null geometry and a world extent in a CRS it cannot project, still valid', () => {
    const utm = { ...spec, mosaic: { ...spec.mosaic, epsg: 32631 } } as RunSpec;
    const [collection, item] = buildStacCatalogue(utm, report) as Array<{ json: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(item!.json.geometry).toBeNull();
    expect(item!.json.bbox).toBeUndefined();
    expect(stacItemProblems(item!.json)).toEqual([]);
    expect(collection!.json.extent.spatial.bbox).toEqual([[-180, -90, 180, 90]]);
  });

  it('refuses a merged block the spec does not know', () => {
    const stray = buildRunReport(spec, {}, {}, [{ blockId: 'nope', key: 'x', bytes: 0, classPixels: {}, failedWindows: 0, mergeMs: 0 }], new Date());
    expect(() => buildStacCatalogue(spec, stray)).toThrow('run run-x: block nope was merged but is not in the run spec');
  });
});
