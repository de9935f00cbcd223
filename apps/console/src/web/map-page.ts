import OlMap from 'ol/Map';
import View from 'ol/View';
import { createEmpty, extend, getCenter, getHeight, getWidth, type Extent } from 'ol/extent';
import ImageLayer from 'ol/layer/Image';
import WebGLTileLayer from 'ol/layer/WebGLTile';
import GeoTIFF from 'ol/source/GeoTIFF';
import ImageStatic from 'ol/source/ImageStatic';
import { fileUrl, getJson, getJsonIfAny, type AreasJson, type MapInfo } from './api';
import { areasChart, legend } from './areas-chart';
import { el } from './format';
import { LAMBERT_93, registerLambert93 } from './projection';

type Rgba = [number, number, number, number];

/** 256 colours indexed by class id: the model's FLAIR palette, transparent where no class is. */
export function paletteOf(classes: MapInfo['classes']): Rgba[] {
  const table: Rgba[] = Array.from({ length: 256 }, () => [0, 0, 0, 0]);
  for (const c of classes) {
    const hex = c.color.replace('#', '');
    table[c.id] = [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16), 1];
  }
  return table;
}

/** One WebGL layer per block COG, read tile by tile by range requests, class ids through the palette. */
function blockLayer(key: string, palette: Rgba[]): WebGLTileLayer {
  const source = new GeoTIFF({
    sources: [{ url: fileUrl(key), nodata: 0 }],
    // class ids, not intensities: no normalising, no interpolation between classes
    normalize: false,
    interpolate: false,
    transition: 0,
  });
  return new WebGLTileLayer({ source, style: { color: ['palette', ['band', 1], palette] } });
}

/** The view asked for in the address (#/map?x=..&y=..&res=..): shareable places. */
function placeInHash(query: URLSearchParams): { center: [number, number]; resolution: number } | undefined {
  const x = Number(query.get('x'));
  const y = Number(query.get('y'));
  const res = Number(query.get('res'));
  if (!query.has('x') || !Number.isFinite(x) || !Number.isFinite(y) || !(res > 0)) return undefined;
  return { center: [x, y], resolution: res };
}

/**
 * What changed since the previous publication (changes-mask.png over changes.json's extent),
 * hidden until asked for, so the map shows its true colours first. None on a first night
 * (changes.json's `previous` is null: everything would be marked).
 */
async function changesLayer(info: MapInfo): Promise<{ layer: ImageLayer<ImageStatic>; since: string } | undefined> {
  if (!info.changes?.pngKey) return undefined;
  const changes = await getJsonIfAny<{ extent?: number[]; previous?: string | null }>(fileUrl(info.changes.jsonKey));
  const extent = changes?.extent;
  if (!changes?.previous || !extent || extent.length !== 4) return undefined;
  const layer = new ImageLayer({
    source: new ImageStatic({ url: fileUrl(info.changes.pngKey), imageExtent: extent as Extent, projection: LAMBERT_93, interpolate: false }),
    opacity: 0.8,
    visible: false,
  });
  return { layer, since: changes.previous };
}

export async function showMap(view: HTMLElement, query: URLSearchParams, isCurrent: () => boolean): Promise<void> {
  const info = await getJsonIfAny<MapInfo>('/api/map');
  if (!isCurrent()) return;
  if (!info) {
    view.replaceChildren(el('h1', {}, 'Map'), el('p', { class: 'muted' }, 'Nothing published in this output yet: the map appears once a run has finished.'));
    return;
  }
  registerLambert93();
  const areas = info.areasKey ? await getJson<AreasJson>(fileUrl(info.areasKey)) : undefined;
  const palette = paletteOf(info.classes);
  const names = new Map(info.classes.map((c) => [c.id, c.name]));
  const target = el('div', { id: 'map' });
  const pointer = el('div', { class: 'pointer', id: 'pointer' }, el('span', { class: 'muted' }, 'Point at the map for the class.'));
  const side = el('aside', {},
    el('h1', {}, `Map of run ${info.runId}`),
    el('p', { class: 'muted' }, info.publishedAt ? `published ${info.publishedAt.replace('T', ' ').slice(0, 19)} UTC` : ''),
    pointer,
    el('h2', {}, 'Classes (ha)'),
    legend(info.classes, areas));
  if (areas) side.append(el('h2', {}, 'Area per class'), areasChart(info.classes, areas));
  view.replaceChildren(el('div', { class: 'map-page' }, target, side));

  const layers = info.blocks.map((b) => blockLayer(b.key, palette));
  const map = new OlMap({ target, layers });
  const changes = await changesLayer(info);
  if (changes) {
    map.addLayer(changes.layer);
    const toggle = el('input', { type: 'checkbox', id: 'changes-toggle' });
    toggle.addEventListener('change', () => changes.layer.setVisible(toggle.checked));
    side.insertBefore(el('label', {}, toggle, ` changes since run ${changes.since}`), pointer);
  }

  // each COG says where it lies and its resolutions (full resolution first, then overviews)
  const views = await Promise.all(layers.map((l) => (l.getSource() as GeoTIFF).getView()));
  if (!isCurrent()) return map.setTarget(undefined);
  const extent = createEmpty();
  let finest = Infinity;
  for (const v of views) {
    if (v.extent) extend(extent, v.extent);
    for (const r of v.resolutions ?? []) finest = Math.min(finest, r);
    if (v.resolution !== undefined) finest = Math.min(finest, v.resolution);
  }
  const whole = Math.max(getWidth(extent), getHeight(extent)) / 256;
  const place = placeInHash(query);
  map.setView(new View({
    projection: LAMBERT_93,
    center: place?.center ?? getCenter(extent),
    resolution: place?.resolution ?? whole,
    // from the whole département down to a few screen pixels per 20 cm pixel
    maxResolution: Math.max(whole * 2, place?.resolution ?? 0),
    minResolution: Number.isFinite(finest) ? finest / 8 : 0.025,
    constrainResolution: false,
  }));
  if (!place) map.getView().fit(extent, { padding: [10, 10, 10, 10] });

  map.on('pointermove', (event) => {
    for (const layer of layers) {
      const data = layer.getData(event.pixel);
      const id = !data ? 0 : data instanceof DataView ? data.getUint8(0) : Number(data[0]);
      if (id > 0) {
        const [x, y] = event.coordinate;
        pointer.replaceChildren(el('span', { class: 'swatch', style: `background:${info.classes.find((c) => c.id === id)?.color ?? '#000'}` }),
          ` ${names.get(id) ?? 'unknown class'} (class ${id})  `, el('span', { class: 'muted' }, `x ${x!.toFixed(1)}, y ${y!.toFixed(1)}`));
        pointer.dataset.classId = String(id);
        return;
      }
    }
    pointer.replaceChildren(el('span', { class: 'muted' }, 'no data here'));
    delete pointer.dataset.classId;
  });
  // the tests (and anyone scripting a screenshot) wait for this: every visible tile drawn
  map.once('rendercomplete', () => (target.dataset.ready = '1'));
}
