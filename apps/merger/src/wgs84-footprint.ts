import proj4 from 'proj4';

/**
 * proj4 definitions of the CRSs BD ORTHO comes in. EPSG:2154 (RGF93 v1 / Lambert-93) as
 * published by the EPSG registry and epsg.io (https://epsg.io/2154.proj4); RGF93 v2b /
 * Lambert-93 (EPSG:9794) has the same projection on a datum that differs by centimetres.
 * No database: a run in another CRS gets no WGS84 footprint (STAC then carries proj:bbox only).
 */
const LAMBERT_93 = '+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs';
const DEFINITIONS: Record<number, string> = {
  2154: LAMBERT_93,
  9794: LAMBERT_93,
  4326: '+proj=longlat +datum=WGS84 +no_defs +type=crs',
};

/** A ring of [lon, lat] points, closed (first point repeated last), counter-clockwise. */
export type LonLatRing = Array<[number, number]>;

// Points per edge: Lambert-93 edges are not straight in lon/lat; a few points bound the curve.
const POINTS_PER_EDGE = 8;

/**
 * The WGS84 outline and bounding box of a rectangle given in `epsg` coordinates
 * (xmin, ymin, xmax, ymax), or undefined when the CRS is not one of those above.
 */
export function wgs84Footprint(epsg: number, bounds: readonly [number, number, number, number]): { ring: LonLatRing; bbox: [number, number, number, number] } | undefined {
  const definition = DEFINITIONS[epsg];
  if (!definition) return undefined;
  const toWgs84 = proj4(definition, DEFINITIONS[4326]!);
  const [x0, y0, x1, y1] = bounds;
  const corners: Array<[number, number]> = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  const ring: LonLatRing = [];
  corners.forEach(([ax, ay], i) => {
    const [bx, by] = corners[(i + 1) % 4]!;
    for (let k = 0; k < POINTS_PER_EDGE; k++) {
      const t = k / POINTS_PER_EDGE;
      const [lon, lat] = toWgs84.forward([ax + (bx - ax) * t, ay + (by - ay) * t]) as [number, number];
      ring.push([round7(lon), round7(lat)]);
    }
  });
  ring.push(ring[0]!);
  const lons = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  return { ring, bbox: [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)] };
}

// 1e-7 degree is about 1 cm: finer digits are noise in a catalogue.
const round7 = (v: number) => Math.round(v * 1e7) / 1e7;
