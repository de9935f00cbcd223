import { LAND_COVER } from './land-cover';
import { generateLandscape } from './landscape';

function classMeans(seed: number, size: number): { share: Map<number, number>; mean: Map<number, number[]> } {
  const { planes, truth } = generateLandscape({ width: size, height: size, seed });
  const sums = new Map<number, number[]>();
  truth.forEach((t, p) => {
    const s = sums.get(t) ?? [0, 0, 0, 0, 0, 0];
    s[0]! += 1;
    s[1]! += planes.R[p]!;
    s[2]! += planes.G[p]!;
    s[3]! += planes.B[p]!;
    s[4]! += planes.NIR[p]!;
    s[5]! += planes.E[p]!;
    sums.set(t, s);
  });
  const share = new Map([...sums].map(([t, s]) => [t, s[0]! / truth.length]));
  const mean = new Map([...sums].map(([t, s]) => [t, s.slice(1).map((v) => v / s[0]!)]));
  return { share, mean };
}

describe('generateLandscape', () => {
  it('is deterministic per seed', () => {
    const a = generateLandscape({ width: 300, height: 200, seed: 5 });
    const b = generateLandscape({ width: 300, height: 200, seed: 5 });
    const c = generateLandscape({ width: 300, height: 200, seed: 6 });
    expect(Buffer.from(a.truth).equals(Buffer.from(b.truth))).toBe(true);
    for (const band of ['R', 'G', 'B', 'NIR', 'E'] as const) {
      expect(a.planes[band]).toHaveLength(300 * 200);
      expect(Buffer.from(a.planes[band]).equals(Buffer.from(b.planes[band]))).toBe(true);
    }
    expect(Buffer.from(a.planes.NIR).equals(Buffer.from(c.planes.NIR))).toBe(false);
  });

  it('draws only FLAIR class ids, with plausible spectra and heights', () => {
    const allowed = new Set<number>(Object.values(LAND_COVER));
    const { share, mean } = classMeans(42, 1500);
    for (const id of share.keys()) expect(allowed.has(id)).toBe(true);
    // A rural dalle: fields and meadows dominate, and the built-up classes are all present.
    for (const id of [LAND_COVER.building, LAND_COVER.impervious, LAND_COVER.water, LAND_COVER.agricultural, LAND_COVER.pool]) {
      expect(share.get(id)).toBeGreaterThan(0);
    }
    const m = (id: number): number[] => mean.get(id)!;
    const [R, , B, NIR, E] = [0, 1, 2, 3, 4];
    // Green vegetation: bright in NIR, dark in red (crops less so: some parcels are ripe cereal).
    for (const id of [LAND_COVER.deciduous, LAND_COVER.herbaceous]) {
      expect(m(id)[NIR]!).toBeGreaterThan(m(id)[R]! + 40);
    }
    expect(m(LAND_COVER.agricultural)[NIR]!).toBeGreaterThan(m(LAND_COVER.agricultural)[R]!);
    // Water and pools: dark in NIR, bluish.
    expect(m(LAND_COVER.water)[NIR]!).toBeLessThan(40);
    expect(m(LAND_COVER.pool)[B]!).toBeGreaterThan(m(LAND_COVER.pool)[R]! + 60);
    // Roads: grey, little NIR.
    expect(m(LAND_COVER.impervious)[NIR]!).toBeLessThan(m(LAND_COVER.impervious)[R]!);
    // Heights (E = metres * 5): buildings 4-15 m, trees 10-25 m, open ground near 0.
    expect(m(LAND_COVER.building)[E]!).toBeGreaterThanOrEqual(20);
    expect(m(LAND_COVER.building)[E]!).toBeLessThanOrEqual(76);
    expect(m(LAND_COVER.deciduous)[E]!).toBeGreaterThan(40);
    expect(m(LAND_COVER.water)[E]!).toBeLessThan(3);
    expect(m(LAND_COVER.impervious)[E]!).toBeLessThan(3);
  });

  it('keeps building heights within 4-15 m', () => {
    const { planes, truth } = generateLandscape({ width: 1200, height: 1200, seed: 9 });
    let count = 0;
    truth.forEach((t, p) => {
      if (t !== LAND_COVER.building) return;
      count++;
      expect(planes.E[p]).toBeGreaterThanOrEqual(20);
      expect(planes.E[p]).toBeLessThanOrEqual(77); // 15 m plus up to 1.5 steps of noise
    });
    expect(count).toBeGreaterThan(0);
  });

  it('generates a large landscape with one truth label per pixel', () => {
    const { truth } = generateLandscape({ width: 2500, height: 2500, seed: 11 });
    expect(truth).toHaveLength(2500 * 2500);
  });
});
