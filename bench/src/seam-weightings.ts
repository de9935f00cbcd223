/**
 * The window weightings bench:seams compares. Each is an axis weight (the 2-D weight is the
 * product of the two axes', as the merger does it), a function of the window size and the
 * plan's overlap. All stay > 0: the BlendAccumulator needs a positive weight wherever a
 * window has data (its tie-break and single-window fallback keep the highest-weight window).
 */
import { axisWeights, gaussianAxisWeights } from '@fleet/blend';

export interface Weighting {
  /** Short name for the tables, e.g. "sin2(o)". */
  readonly name: string;
  /** What it is, for the BENCHMARKS.md legend. */
  readonly about: string;
  axis(size: number, overlap: number): Float32Array;
}

/** Below this a window only breaks ties (centre crop): small enough never to outvote a weight of 1. */
const NEGLIGIBLE = 1e-6;

function byDistance(size: number, f: (d: number) => number): Float32Array {
  const w = new Float32Array(size);
  for (let i = 0; i < size; i++) w[i] = Math.max(NEGLIGIBLE, f(Math.min(i, size - 1 - i) + 0.5));
  return w;
}

function gaussian(size: number, sigma: number): Float32Array {
  return byDistance(size, (d) => Math.exp(-((size / 2 - d) ** 2) / (2 * sigma * sigma)));
}

export const WEIGHTINGS: readonly Weighting[] = [
  { name: 'sin2(o)', about: "today's default: sin^2 ramp over the overlap, plateau 1", axis: (s, o) => axisWeights(s, o) },
  { name: 'sin2(o/2)', about: 'sin^2 ramp over half the overlap (narrower)', axis: (s, o) => axisWeights(s, Math.round(o / 2)) },
  { name: 'sin2(2o)', about: 'sin^2 ramp over twice the overlap (wider, capped at half the window)', axis: (s, o) => axisWeights(s, Math.min(2 * o, Math.floor(s / 2))) },
  { name: 'linear(o)', about: 'linear ramp over the overlap', axis: (s, o) => byDistance(s, (d) => Math.min(1, d / Math.max(1, o))) },
  { name: 'tent', about: '(d / (size/2)): distance to the window edge, no plateau', axis: (s) => byDistance(s, (d) => d / (s / 2)) },
  { name: 'tent^2', about: '(d / (size/2))^2', axis: (s) => byDistance(s, (d) => (d / (s / 2)) ** 2) },
  { name: 'tent^4', about: '(d / (size/2))^4: close to a centre crop, still a blend', axis: (s) => byDistance(s, (d) => (d / (s / 2)) ** 4) },
  { name: 'gauss(s/6)', about: 'Gaussian around the window centre, sigma = size/6', axis: (s) => gaussian(s, s / 6) },
  { name: 'gauss(s/8)', about: "Gaussian around the window centre, sigma = size/8 (MONAI's default; packages/blend gaussianAxisWeights)", axis: (s) => gaussianAxisWeights(s) },
  { name: 'gauss(s/12)', about: 'Gaussian around the window centre, sigma = size/12', axis: (s) => gaussian(s, s / 12) },
  { name: 'crop', about: 'centre crop: hard cut at the overlap midline, no blending (IGN flair-detect style)', axis: (s, o) => byDistance(s, (d) => (d >= o / 2 ? 1 : 0)) },
];

export function weightingNamed(name: string): Weighting {
  const w = WEIGHTINGS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown weighting "${name}"; known: ${WEIGHTINGS.map((x) => x.name).join(', ')}`);
  return w;
}
