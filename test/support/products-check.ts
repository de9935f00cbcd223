import { PNG } from 'pngjs';
import { stacCollectionProblems, stacItemProblems } from './stac-check';

interface ReportLike {
  runId: string;
  classes: Array<{ id: number; name: string; pixels: number; hectares: number }>;
  blocks: Array<{ id: string; key?: string }>;
}

/**
 * Checks the products of a finished, published run, read through `get` (a local folder or a
 * bucket): current.json names it, areas.csv and areas.json under runs/<runId>/ agree with its
 * run.json, the STAC collection (top level) and items (under the run) are valid and point at
 * the blocks, quicklook.png decodes with a legend beside a map of the mosaic reduced to at most
 * 1024 px, changes.json is there. Returns the quicklook's size.
 */
export async function checkRunProducts(
  get: (key: string) => Promise<Buffer>,
  report: ReportLike,
  mosaic: { width: number; height: number },
): Promise<{ quicklook: { width: number; height: number } }> {
  const current = JSON.parse((await get('current.json')).toString('utf8'));
  expect(current).toMatchObject({ runId: report.runId, report: `runs/${report.runId}/run.json`, manifest: `runs/${report.runId}/manifest.json` });
  const at = (key: string) => `runs/${report.runId}/${key}`;
  const csv = (await get(at('areas.csv'))).toString('utf8').trim().split('\n');
  expect(csv[0]).toBe('block,class_id,class_name,pixels,hectares');
  expect(csv).toHaveLength(1 + (report.blocks.length + 1) * report.classes.length);
  for (const c of report.classes) {
    expect(csv).toContain(`total,${c.id},${c.name},${c.pixels},${c.hectares}`);
  }
  const areas = JSON.parse((await get(at('areas.json'))).toString('utf8'));
  expect(areas.runId).toBe(report.runId);
  expect(areas.total.map((c: { classId: number; pixels: number }) => [c.classId, c.pixels])).toEqual(report.classes.map((c) => [c.id, c.pixels]));

  const collection = JSON.parse((await get('stac/collection.json')).toString('utf8'));
  expect(stacCollectionProblems(collection)).toEqual([]);
  expect(collection.id).toBe(report.runId);
  for (const b of report.blocks) {
    const item = JSON.parse((await get(at(`stac/items/${b.id}.json`))).toString('utf8'));
    expect(stacItemProblems(item)).toEqual([]);
    expect(item.assets.landcover.href).toBe(b.key && !b.key.startsWith(at('')) ? `../../../../${b.key}` : `../../blocks/${b.id}.tif`);
    expect(item.properties['proj:epsg']).toBe(2154);
  }

  const png = PNG.sync.read(await get(at('quicklook.png')));
  const factor = Math.max(1, Math.ceil(Math.max(mosaic.width, mosaic.height) / 1024));
  expect(png.height).toBeGreaterThanOrEqual(Math.ceil(mosaic.height / factor));
  expect(png.width).toBeGreaterThan(Math.ceil(mosaic.width / factor) + 100); // map + legend panel
  const changes = JSON.parse((await get(at('changes.json'))).toString('utf8'));
  expect(changes.runId).toBe(report.runId);
  return { quicklook: { width: png.width, height: png.height } };
}
