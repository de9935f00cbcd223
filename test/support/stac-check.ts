/**
 * Structural checks of the STAC documents a run writes (no network validator): the fields
 * STAC 1.0.0 requires of a Collection and an Item, and those of the projection, raster and
 * classification extensions the catalogue declares. Returns the problems found, empty when none.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const isIsoDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && /T.*(Z|[+-]\d\d:\d\d)$/.test(v);
const isBbox = (v: unknown) => Array.isArray(v) && v.length === 4 && v.every(Number.isFinite) && v[0] <= v[2] && v[1] <= v[3];

export function stacCollectionProblems(c: Json): string[] {
  const p: string[] = [];
  if (c.type !== 'Collection') p.push('type is not Collection');
  if (c.stac_version !== '1.0.0') p.push('stac_version is not 1.0.0');
  for (const f of ['id', 'description', 'license']) if (typeof c[f] !== 'string' || c[f] === '') p.push(`${f} missing`);
  if (!Array.isArray(c.extent?.spatial?.bbox) || !c.extent.spatial.bbox.every(isBbox)) p.push('extent.spatial.bbox invalid');
  const interval = c.extent?.temporal?.interval;
  if (!Array.isArray(interval) || !interval.every((i: unknown[]) => Array.isArray(i) && i.length === 2 && i.every((d) => d === null || isIsoDate(d)))) p.push('extent.temporal.interval invalid');
  if (!Array.isArray(c.links) || !c.links.every((l: Json) => typeof l.rel === 'string' && typeof l.href === 'string')) p.push('links invalid');
  p.push(...extensionProblems(c, c.summaries ?? {}));
  return p;
}

export function stacItemProblems(item: Json): string[] {
  const p: string[] = [];
  if (item.type !== 'Feature') p.push('type is not Feature');
  if (item.stac_version !== '1.0.0') p.push('stac_version is not 1.0.0');
  if (typeof item.id !== 'string' || item.id === '') p.push('id missing');
  if (item.geometry !== null) {
    if (item.geometry?.type !== 'Polygon' || !Array.isArray(item.geometry.coordinates?.[0])) p.push('geometry is not a Polygon');
    if (!isBbox(item.bbox)) p.push('bbox missing or invalid (required with a geometry)');
    const ring = item.geometry?.coordinates?.[0] ?? [];
    if (JSON.stringify(ring[0]) !== JSON.stringify(ring.at(-1))) p.push('geometry ring not closed');
  }
  const props = item.properties ?? {};
  if (!isIsoDate(props.datetime)) p.push('properties.datetime missing or not RFC 3339');
  if (!Number.isInteger(props['proj:epsg'])) p.push('proj:epsg missing');
  if (!(Array.isArray(props['proj:shape']) && props['proj:shape'].length === 2)) p.push('proj:shape missing');
  if (!(Array.isArray(props['proj:transform']) && [6, 9].includes(props['proj:transform'].length))) p.push('proj:transform missing');
  if (!Array.isArray(item.links) || !item.links.every((l: Json) => typeof l.rel === 'string' && typeof l.href === 'string')) p.push('links invalid');
  const assets = Object.values(item.assets ?? {}) as Json[];
  if (assets.length === 0) p.push('no assets');
  for (const a of assets) {
    if (typeof a.href !== 'string') p.push('asset without href');
    const bands = a['raster:bands'];
    if (!Array.isArray(bands) || bands[0]?.data_type !== 'uint8' || bands[0]?.nodata !== 0) p.push('raster:bands not uint8 with nodata 0');
    p.push(...classProblems(a['classification:classes']));
  }
  p.push(...extensionProblems(item, {}));
  return p;
}

function classProblems(classes: unknown): string[] {
  if (!Array.isArray(classes) || classes.length === 0) return ['classification:classes missing'];
  return classes.flatMap((c: Json) => [
    ...(Number.isInteger(c.value) ? [] : ['class without integer value']),
    ...(typeof c.description === 'string' ? [] : [`class ${c.value} without description`]),
    ...(/^[0-9A-Fa-f]{6}$/.test(c.color_hint ?? '') ? [] : [`class ${c.value} color_hint not 6 hex digits`]),
  ]);
}

function extensionProblems(doc: Json, summaries: Json): string[] {
  const ext: string[] = doc.stac_extensions ?? [];
  const p: string[] = [];
  for (const name of ['projection', 'raster', 'classification']) {
    if (!ext.some((e) => e.startsWith(`https://stac-extensions.github.io/${name}/v`) && e.endsWith('/schema.json'))) p.push(`${name} extension not declared`);
  }
  if (doc.type === 'Collection' && summaries['classification:classes']) p.push(...classProblems(summaries['classification:classes']));
  return p;
}
