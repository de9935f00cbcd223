import { execFileSync, spawnSync } from 'node:child_process';
import { wgs84Footprint } from './wgs84-footprint';

const hasGdal = spawnSync('gdaltransform', ['--version']).status === 0;

describe('wgs84Footprint', () => {
  // A 5 km BD ORTHO dalle in the Hauts-de-Seine (92-2024-0645-6865).
  const dalle = [645000, 6860000, 650000, 6865000] as const;

  (hasGdal ? it : it.skip)('matches GDAL/PROJ on Lambert-93 corners to a few centimetres', () => {
    const footprint = wgs84Footprint(2154, dalle)!;
    const out = execFileSync('gdaltransform', ['-s_srs', 'EPSG:2154', '-t_srs', 'EPSG:4326', '-output_xy'], {
      input: '645000 6860000\n650000 6865000\n', encoding: 'utf8',
    }).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    // gdaltransform to EPSG:4326 gives lat, lon (the CRS's axis order) unless told otherwise
    const [sw, ne] = out.map(([a, b]) => (a! > b! ? [b!, a!] : [a!, b!]));
    expect(footprint.ring[0]![0]).toBeCloseTo(sw![0]!, 6);
    expect(footprint.ring[0]![1]).toBeCloseTo(sw![1]!, 6);
    expect(footprint.ring[16]![0]).toBeCloseTo(ne![0]!, 6);
    expect(footprint.ring[16]![1]).toBeCloseTo(ne![1]!, 6);
  });

  it('gives a closed ring and a bbox that contains it, near Paris', () => {
    const { ring, bbox } = wgs84Footprint(9794, dalle)!;
    expect(ring).toHaveLength(33);
    expect(ring[32]).toEqual(ring[0]);
    for (const [lon, lat] of ring) {
      expect(lon).toBeGreaterThanOrEqual(bbox[0]);
      expect(lat).toBeGreaterThanOrEqual(bbox[1]);
      expect(lon).toBeLessThanOrEqual(bbox[2]);
      expect(lat).toBeLessThanOrEqual(bbox[3]);
    }
    expect(bbox[0]).toBeGreaterThan(2.1);
    expect(bbox[2]).toBeLessThan(2.35);
    expect(bbox[1]).toBeGreaterThan(48.8);
    expect(bbox[3]).toBeLessThan(48.9);
  });

  it('returns undefined for a CRS it has no definition of', () => {
    expect(wgs84Footprint(32631, dalle)).toBeUndefined();
  });
});
