/** FLAIR class ids (FLAIR.md) of the classes the synthetic landscape draws. */
export const LAND_COVER = {
  building: 1,
  pervious: 2,
  impervious: 3,
  bareSoil: 4,
  water: 5,
  coniferous: 6,
  deciduous: 7,
  brushwood: 8,
  herbaceous: 10,
  agricultural: 11,
  plowed: 12,
  pool: 13,
} as const;

/** Typical 8-bit BD ORTHO reflectances [R, G, B, NIR] per drawn class: vegetation bright in NIR and dark in red, water dark in NIR. */
export const SPECTRA: Record<number, readonly [number, number, number, number]> = {
  [LAND_COVER.building]: [150, 95, 80, 105], // red tiles; grey roofs get their own tone
  [LAND_COVER.pervious]: [105, 118, 88, 150], // gardens: grass, shrubs, gravel
  [LAND_COVER.impervious]: [112, 112, 115, 78], // asphalt
  [LAND_COVER.bareSoil]: [160, 132, 112, 118],
  [LAND_COVER.water]: [45, 65, 80, 22],
  [LAND_COVER.coniferous]: [38, 58, 50, 95],
  [LAND_COVER.deciduous]: [62, 92, 58, 175],
  [LAND_COVER.brushwood]: [92, 102, 72, 140],
  [LAND_COVER.herbaceous]: [110, 132, 96, 165],
  [LAND_COVER.agricultural]: [80, 140, 60, 225],
  [LAND_COVER.plowed]: [125, 100, 80, 95],
  [LAND_COVER.pool]: [70, 175, 205, 45],
};
