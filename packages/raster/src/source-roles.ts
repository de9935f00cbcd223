/** What an input source holds, and which of its bands feed which model band. */
export const SOURCE_ROLES = {
  /** One 5-band file per dalle: R, G, B, NIR, E. */
  stack: { minBands: 5, bands: { R: 0, G: 1, B: 2, NIR: 3, E: 4 } },
  /** BD ORTHO colour: R, G, B. */
  rgb: { minBands: 3, bands: { R: 0, G: 1, B: 2 } },
  /** BD ORTHO infrared colour: NIR, R, G (band 1 is NIR). Only NIR is taken from it. */
  irc: { minBands: 3, bands: { NIR: 0 } },
  /** One uint8 band: E, the height above ground in 20 cm steps. */
  elevation: { minBands: 1, bands: { E: 0 } },
} as const satisfies Record<string, { minBands: number; bands: Partial<Record<ModelBand, number>> }>;

export type SourceRoleName = keyof typeof SOURCE_ROLES;
export type ModelBand = 'R' | 'G' | 'B' | 'NIR' | 'E';

/** The sources that define the footprint of a run (where a pixel has data). */
export const PRIMARY_ROLES: readonly SourceRoleName[] = ['stack', 'rgb'];
