import { LAND_COVER as C, SPECTRA } from './land-cover';
import { hash2, mulberry32, valueNoise } from './prng';

// Module-local aliases: under jest's vm context every global lookup (Math, Infinity) goes through
// an interceptor and costs ~25x more in the per-pixel loops; plain Node is unaffected.
const { abs, atan2, ceil, cos, floor, hypot, max, min, round, sin, PI } = Math;
const INF = Number.POSITIVE_INFINITY;


export interface LandscapeOptions {
  /** Width in pixels (20 cm each). */
  width: number;
  /** Height in pixels (20 cm each). */
  height: number;
  /** Everything derives from it: same seed, same bytes. */
  seed: number;
}

/** One 8-bit plane per band, row-major, `width * height` each. E = height above ground in 20 cm steps. */
export interface BandPlanes {
  R: Uint8Array;
  G: Uint8Array;
  B: Uint8Array;
  NIR: Uint8Array;
  E: Uint8Array;
}

export interface Landscape {
  planes: BandPlanes;
  /** FLAIR class id per pixel. */
  truth: Uint8Array;
}

/** Pixels per metre at BD ORTHO's 20 cm. */
const PX = 5;

/** A crop/soil tone for agricultural parcels: ripe cereal, young green crop, pale grassland-like crop. */
const CROP_TONES: ReadonlyArray<readonly [number, number, number, number]> = [
  [80, 140, 60, 225],
  [125, 152, 72, 208],
  [195, 175, 110, 152],
];

interface Parcel {
  cls: number;
  /** Spectrum of the parcel (class base with a per-parcel shift). */
  tone: readonly [number, number, number, number];
  /** Canopy height in metres for trees and shrubs. */
  heightM: number;
  /** Direction of furrows or crop rows, as its cosine and sine (scaled to a ~1 m period). */
  rowCos: number;
  rowSin: number;
}

function chooseParcelClass(r: number): number {
  // Rough shares of a French rural dalle: mostly fields and meadows, some woods.
  if (r < 0.34) return C.agricultural;
  if (r < 0.46) return C.plowed;
  if (r < 0.64) return C.herbaceous;
  if (r < 0.78) return C.deciduous;
  if (r < 0.86) return C.coniferous;
  if (r < 0.93) return C.brushwood;
  return C.bareSoil;
}

/** Furrows and crop rows: one period per metre, sampled from a 64-step sine table (Math.sin per pixel is too slow). */
const ROW_STEPS = 64;
const ROW_FREQ = ROW_STEPS / PX;
const ROW_WAVE = Float32Array.from({ length: ROW_STEPS }, (_, i) => sin((2 * PI * i) / ROW_STEPS));

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : round(v));

/**
 * A deterministic synthetic rural landscape at 20 cm/px with its FLAIR ground truth: parcels
 * (crops, plowed land, meadows, woods, brushwood, bare soil), a river or lake, a few roads,
 * houses along the roads with gardens and sometimes a pool. Plausible enough to drive the demo
 * model and the pipeline end to end; not a stand-in for real imagery.
 */
export function generateLandscape(options: LandscapeOptions): Landscape {
  const { width, height, seed } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`width and height must be positive integers, got ${width}x${height}`);
  }
  const rnd = mulberry32(seed);
  const n = width * height;
  const truth = new Uint8Array(n);
  /** Per pixel: parcel index, or -1 where a later feature (road, house...) took over. */
  const parcelOf = new Int32Array(n);
  /** Height in metres for features with their own height (buildings). */
  const ownHeight = new Float32Array(n);
  /** 1 for grey roofs, 0 for red ones. */
  const roofTone = new Uint8Array(n);

  // --- Parcels: a jittered grid of seeds, each pixel belongs to its nearest seed (Voronoi). ---
  const cell = round((55 + rnd() * 30) * PX);
  const gw = ceil(width / cell) + 1;
  const gh = ceil(height / cell) + 1;
  const sx = new Float32Array(gw * gh);
  const sy = new Float32Array(gw * gh);
  const parcels: Parcel[] = [];
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) {
      sx[j * gw + i] = (i + 0.15 + rnd() * 0.7) * cell;
      sy[j * gw + i] = (j + 0.15 + rnd() * 0.7) * cell;
      const cls = chooseParcelClass(rnd());
      const base = cls === C.agricultural ? CROP_TONES[floor(rnd() * CROP_TONES.length)]! : SPECTRA[cls]!;
      const shift = (rnd() - 0.5) * 16;
      const tone = base.map((v) => v + shift) as unknown as [number, number, number, number];
      const heightM =
        cls === C.deciduous || cls === C.coniferous ? 10 + rnd() * 15 : cls === C.brushwood ? 1 + rnd() * 3 : 0;
      const angle = rnd() * PI;
      parcels.push({ cls, tone, heightM, rowCos: cos(angle) * ROW_FREQ, rowSin: sin(angle) * ROW_FREQ });
    }
  }
  // Fields are elongated: stretch distances along one axis.
  const stretch = 0.6 + rnd() * 0.5;
  const nearestSeed = (x: number, y: number): number => {
    const ci = floor(x / cell);
    const cj = floor(y / cell);
    let best = INF;
    let bestK = 0;
    for (let j = max(0, cj - 1); j <= min(gh - 1, cj + 1); j++) {
      for (let i = max(0, ci - 1); i <= min(gw - 1, ci + 1); i++) {
        const k = j * gw + i;
        const ddx = x - sx[k]!;
        const ddy = (y - sy[k]!) * stretch;
        const d = ddx * ddx + ddy * ddy;
        if (d < best) {
          best = d;
          bestK = k;
        }
      }
    }
    return bestK;
  };
  // Voronoi cells are convex (also under the stretch), so a block whose four corners share a
  // seed lies wholly in that cell: only blocks on parcel edges need the per-pixel search.
  const BLOCK = 8;
  for (let by = 0; by < height; by += BLOCK) {
    const y1 = min(height, by + BLOCK) - 1;
    for (let bx = 0; bx < width; bx += BLOCK) {
      const x1 = min(width, bx + BLOCK) - 1;
      const k = nearestSeed(bx, by);
      const uniform = nearestSeed(x1, by) === k && nearestSeed(bx, y1) === k && nearestSeed(x1, y1) === k;
      for (let y = by; y <= y1; y++) {
        for (let x = bx; x <= x1; x++) {
          const kk = uniform ? k : nearestSeed(x, y);
          const p = y * width + x;
          parcelOf[p] = kk;
          truth[p] = parcels[kk]!.cls;
        }
      }
    }
  }

  // --- Water: a meandering river across the dalle, or a lake. ---
  const riverAngle = rnd() * PI;
  const ca = cos(riverAngle);
  const sa = sin(riverAngle);
  const cx = width / 2;
  const cy = height / 2;
  const hasRiver = rnd() < 0.75;
  const riverOffset = (rnd() - 0.5) * 0.5 * min(width, height);
  const riverHalf = (6 + rnd() * 8) * PX;
  const amp = (10 + rnd() * 30) * PX;
  const wave = (80 + rnd() * 120) * PX;
  const phase = rnd() * 6.283;
  const lakeX = rnd() * width;
  const lakeY = rnd() * height;
  const lakeR = (25 + rnd() * 40) * PX;
  const riparian = (4 + rnd() * 6) * PX;
  const lakeReach = lakeR * 1.3 + riparian;
  // Signed distance-ish (pixels) from the lake shore: < 0 inside water.
  const lakeDistance = (x: number, y: number): number => {
    const a = atan2(y - lakeY, x - lakeX);
    const r = lakeR * (1 + 0.15 * sin(3 * a + phase) + 0.08 * sin(7 * a));
    return hypot(x - lakeX, y - lakeY) - r;
  };
  for (let y = 0; y < height; y++) {
    // Along a row u grows by cos(angle) per pixel: the river's sine advances by rotation, with no sin per pixel.
    const v0 = -(0 - cx) * sa + (y - cy) * ca - riverOffset;
    const u0 = (0 - cx) * ca + (y - cy) * sa;
    let waveSin = sin(u0 / wave + phase);
    let waveCos = cos(u0 / wave + phase);
    const dS = sin(ca / wave);
    const dC = cos(ca / wave);
    for (let x = 0; x < width; x++) {
      const d = hasRiver
        ? abs(v0 - x * sa - amp * waveSin) - riverHalf
        : abs(x - lakeX) > lakeReach || abs(y - lakeY) > lakeReach
          ? INF
          : lakeDistance(x, y);
      const next = waveSin * dC + waveCos * dS;
      waveCos = waveCos * dC - waveSin * dS;
      waveSin = next;
      const p = y * width + x;
      if (d < 0) {
        truth[p] = C.water;
        parcelOf[p] = -1;
      } else if (d < riparian && truth[p] !== C.coniferous) {
        // Banks are lined with trees; they keep their parcel for height variation.
        truth[p] = C.deciduous;
      }
    }
  }

  // --- Roads: a few straight roads across the dalle, 4 to 7 m wide. ---
  interface Road { px: number; py: number; dx: number; dy: number; half: number }
  const roads: Road[] = [];
  const roadCount = 2 + floor(rnd() * 3);
  for (let r = 0; r < roadCount; r++) {
    const angle = rnd() * PI;
    roads.push({ px: rnd() * width, py: rnd() * height, dx: cos(angle), dy: sin(angle), half: ((4 + rnd() * 3) * PX) / 2 });
  }
  const isRoad = new Uint8Array(n);
  for (const road of roads) {
    // Per row the road covers one x interval, so solve |(x - px)(-dy) + (y - py)dx| < half for x.
    for (let y = 0; y < height; y++) {
      const c = (y - road.py) * road.dx;
      let x0 = 0;
      let x1 = width - 1;
      if (abs(road.dy) < 1e-9) {
        if (abs(c) >= road.half) continue;
      } else {
        const a = road.px + (c - road.half) / road.dy;
        const b = road.px + (c + road.half) / road.dy;
        x0 = max(0, ceil(min(a, b)));
        x1 = min(width - 1, floor(max(a, b)));
      }
      for (let x = x0; x <= x1; x++) {
        const p = y * width + x;
        truth[p] = C.impervious;
        parcelOf[p] = -1;
        isRoad[p] = 1;
      }
    }
  }

  // --- Houses along the roads: garden, building, sometimes a pool behind it. ---
  const fillRect = (
    cxr: number, cyr: number, ux: number, uy: number, halfU: number, halfV: number,
    paint: (p: number) => void, canPlace?: (p: number) => boolean,
  ): boolean => {
    const ext = abs(ux) * halfU + abs(uy) * halfV;
    const eyt = abs(uy) * halfU + abs(ux) * halfV;
    const x0 = max(0, floor(cxr - ext));
    const x1 = min(width - 1, ceil(cxr + ext));
    const y0 = max(0, floor(cyr - eyt));
    const y1 = min(height - 1, ceil(cyr + eyt));
    const cells: number[] = [];
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const du = (x - cxr) * ux + (y - cyr) * uy;
        const dv = -(x - cxr) * uy + (y - cyr) * ux;
        if (abs(du) <= halfU && abs(dv) <= halfV) cells.push(y * width + x);
      }
    }
    if (canPlace && !cells.every(canPlace)) return false;
    cells.forEach(paint);
    return true;
  };
  const free = (p: number): boolean => isRoad[p] === 0 && truth[p] !== C.water;
  const reach = hypot(width, height);
  for (const road of roads) {
    // A village stretch along each road where houses are dense.
    const villageAt = (rnd() - 0.5) * reach * 0.6;
    const villageHalf = (60 + rnd() * 100) * PX;
    for (let t = -reach; t < reach; t += (14 + rnd() * 10) * PX) {
      const inVillage = abs(t - villageAt) < villageHalf;
      for (const side of [-1, 1]) {
        if (rnd() > (inVillage ? 0.85 : 0.04)) continue;
        const lot = (10 + rnd() * 6) * PX; // garden depth behind the façade line
        const w = (8 + rnd() * 8) * PX; // building along the road
        const d = (8 + rnd() * 5) * PX; // building depth
        const setback = road.half + (3 + rnd() * 5) * PX;
        // Normal to the road, pointing to this side.
        const nx = -road.dy * side;
        const ny = road.dx * side;
        const bx = road.px + road.dx * t;
        const by = road.py + road.dy * t;
        const bcx = bx + nx * (setback + d / 2);
        const bcy = by + ny * (setback + d / 2);
        const gDepth = setback - road.half + d + lot;
        const gcx = bx + nx * (road.half + gDepth / 2);
        const gcy = by + ny * (road.half + gDepth / 2);
        const gHalfU = w / 2 + (3 + rnd() * 4) * PX;
        const garden = fillRect(gcx, gcy, road.dx, road.dy, gHalfU, gDepth / 2 - 1, (p) => {
          truth[p] = C.pervious;
          parcelOf[p] = -1;
        }, (p) => free(p) && truth[p] !== C.building && truth[p] !== C.pool && truth[p] !== C.pervious);
        if (!garden) continue;
        const heightM = 4 + rnd() * 11;
        const grey = rnd() < 0.4 ? 1 : 0;
        fillRect(bcx, bcy, road.dx, road.dy, w / 2, d / 2, (p) => {
          truth[p] = C.building;
          ownHeight[p] = heightM;
          roofTone[p] = grey;
        });
        if (rnd() < 0.35) {
          const poolC = setback + d + lot * 0.55;
          const along = (rnd() - 0.5) * (w - 8 * PX);
          fillRect(bx + nx * poolC + road.dx * along, by + ny * poolC + road.dy * along, road.dx, road.dy, 4 * PX, 2 * PX, (p) => {
            truth[p] = C.pool;
          });
        }
      }
    }
  }

  // --- Render spectra and heights. ---
  const R = new Uint8Array(n);
  const G = new Uint8Array(n);
  const B = new Uint8Array(n);
  const NIR = new Uint8Array(n);
  const E = new Uint8Array(n);
  const broad = valueNoise(width, height, 40 * PX, seed ^ 0x5bd1e995);
  const crowns = valueNoise(width, height, 3 * PX, seed ^ 0x1b873593);
  const salt = seed ^ 0x68e31da4;
  // Flat tables rather than per-pixel object lookups: this loop runs over every pixel.
  const classTone = new Float32Array(256 * 4);
  for (const [cls, tone] of Object.entries(SPECTRA)) classTone.set(tone, Number(cls) * 4);
  const greyRoof = Float32Array.of(118, 118, 124, 98);
  const parcelTone = new Float32Array(parcels.length * 4);
  parcels.forEach((parcel, k) => parcelTone.set(parcel.tone, k * 4));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const cls = truth[p]!;
      const k = parcelOf[p]!;
      const parcel = k >= 0 ? parcels[k] : undefined;
      // A parcel's own tone only applies where the pixel still shows that parcel's class.
      let toneTable = classTone;
      let t0 = cls * 4;
      if (parcel !== undefined && parcel.cls === cls) {
        toneTable = parcelTone;
        t0 = k * 4;
      } else if (cls === C.building && roofTone[p] === 1) {
        toneTable = greyRoof;
        t0 = 0;
      }
      const h = hash2(x, y, salt);
      // Four independent-ish noise bytes per pixel, centred on zero.
      const n0 = (h & 255) - 127.5;
      const n1 = ((h >>> 8) & 255) - 127.5;
      const n2 = ((h >>> 16) & 255) - 127.5;
      const n3 = (h >>> 24) - 127.5;
      const common = n0 * 0.04 + broad[p]! * 6; // brightness texture shared by the bands
      let texture = 0;
      let heightM = 0;
      let calm = 1;
      switch (cls) {
        case C.plowed:
        case C.agricultural: {
          // Furrows or crop rows, one per metre.
          const step = parcel !== undefined ? (x * parcel.rowCos + y * parcel.rowSin) | 0 : 0;
          texture = ROW_WAVE[step & (ROW_STEPS - 1)]! * (cls === C.plowed ? 10 : 4);
          heightM = cls === C.agricultural ? 0.6 + (n3 + 127.5) / 512 : 0; // standing crops show in the nDSM
          break;
        }
        case C.deciduous:
        case C.coniferous: {
          const c = crowns[p]!;
          texture = c * 22;
          const canopy = parcel !== undefined && (parcel.cls === C.deciduous || parcel.cls === C.coniferous) ? parcel.heightM : 14;
          heightM = canopy * (0.82 + 0.18 * c);
          break;
        }
        case C.brushwood:
          texture = crowns[p]! * 14;
          heightM = (parcel?.cls === C.brushwood ? parcel.heightM : 2) * (0.6 + 0.4 * abs(crowns[p]!));
          break;
        case C.pervious:
          texture = crowns[p]! * 12;
          heightM = max(0, crowns[p]!) * 2.5; // a few shrubs
          break;
        case C.building:
          heightM = ownHeight[p]!;
          break;
        case C.water:
        case C.pool:
          calm = 0.3; // still water shows little texture
          break;
        default:
          break;
      }
      const t = (common + texture) * calm;
      R[p] = clamp8(toneTable[t0]! + t + n1 * 0.05);
      G[p] = clamp8(toneTable[t0 + 1]! + t + n2 * 0.05);
      B[p] = clamp8(toneTable[t0 + 2]! + t * 0.8 + n3 * 0.05);
      NIR[p] = clamp8(toneTable[t0 + 3]! + t * 1.4 + n0 * 0.06);
      E[p] = clamp8(heightM * PX + ((n2 + 127.5) / 255) * 1.5);
    }
  }
  return { planes: { R, G, B, NIR, E }, truth };
}
