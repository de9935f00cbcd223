/**
 * What an input source holds, and which of its bands feed which model band.
 * `bands`: model band -> 0-based band of the file. `minBands`/`maxBands`: the band counts a
 * file of the role may have (an image role allows one more band when it is an alpha band,
 * as in RGBA deliveries). `sample`: 'uint8' for imagery, 'numeric' (any integer or float
 * type) for the elevation surfaces. `onMosaicGrid`: false for surfaces, which may have their
 * own pixel size and origin and are resampled onto the image grid.
 */
export const SOURCE_ROLES = {
  /** One 5-band file per dalle: R, G, B, NIR, E. */
  stack: { minBands: 5, maxBands: 6, sample: 'uint8', onMosaicGrid: true, bands: { R: 0, G: 1, B: 2, NIR: 3, E: 4 } },
  /** BD ORTHO colour: R, G, B. */
  rgb: { minBands: 3, maxBands: 4, sample: 'uint8', onMosaicGrid: true, bands: { R: 0, G: 1, B: 2 } },
  /** BD ORTHO infrared colour: NIR, R, G (band 1 is NIR). Only NIR is taken from it. */
  irc: { minBands: 3, maxBands: 4, sample: 'uint8', onMosaicGrid: true, bands: { NIR: 0 } },
  /** One uint8 band: E, the height above ground in 20 cm steps. */
  elevation: { minBands: 1, maxBands: 2, sample: 'uint8', onMosaicGrid: true, bands: { E: 0 } },
  /** Digital surface model (MNS), metres, one band of any numeric type: E = (DSM - DTM) * 5. */
  dsm: { minBands: 1, maxBands: 1, sample: 'numeric', onMosaicGrid: false, bands: {} },
  /** Digital terrain model (MNT, e.g. RGE ALTI 1 m), metres, one numeric band. */
  dtm: { minBands: 1, maxBands: 1, sample: 'numeric', onMosaicGrid: false, bands: {} },
} as const satisfies Record<
  string,
  { minBands: number; maxBands: number; sample: 'uint8' | 'numeric'; onMosaicGrid: boolean; bands: Partial<Record<ModelBand, number>> }
>;

export type SourceRoleName = keyof typeof SOURCE_ROLES;
export type ModelBand = 'R' | 'G' | 'B' | 'NIR' | 'E';

/** The sources that define the footprint of a run (where a pixel has data). */
export const PRIMARY_ROLES: readonly SourceRoleName[] = ['stack', 'rgb'];

/** The elevation surfaces E is computed from when no ready E band is given. */
export const SURFACE_ROLES: readonly SourceRoleName[] = ['dsm', 'dtm'];
