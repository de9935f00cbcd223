/**
 * Object keys of a run's products in its output store. Final products sit at the top (what
 * users open); intermediates under _work/<runId>/, so several runs can share an output.
 */
export const outputKeys = {
  maskTile: (runId: string, windowId: string) => `_work/${runId}/tiles/${windowId}.tile`,
  /** Prefix of every mask tile of a run (listed to sweep them once the run is merged). */
  maskTiles: (runId: string) => `_work/${runId}/tiles/`,
  /**
   * A merged block's result (BlockResult JSON), written after its GeoTIFF and before the block
   * is recorded in Redis or any tile deleted: storage's record that the block is merged.
   */
  blockRecord: (runId: string, blockId: string) => `_work/${runId}/blocks/${blockId}.json`,
  /** Prefix of every block record of a run (listed to rebuild the run state after Redis lost it). */
  blockRecords: (runId: string) => `_work/${runId}/blocks/`,
  /**
   * The run's spec as the coordinator planned it (dalle versions, model hash, geometry): what
   * the next night's refresh compares its own plan with. Kept with the block records.
   */
  runSpec: (runId: string) => `_work/${runId}/spec.json`,
  block: (blockId: string) => `blocks/${blockId}.tif`,
  mosaicVrt: 'mosaic.vrt',
  runReport: 'run.json',
  /** Hectares per class, per block and for the run. */
  areasCsv: 'areas.csv',
  areasJson: 'areas.json',
  /** The whole run downsampled, in the FLAIR palette, with a legend. */
  quicklook: 'quicklook.png',
  /** STAC catalogue: a collection for the run, an item per block (hrefs relative to these files). */
  stacCollection: 'stac/collection.json',
  stacItem: (blockId: string) => `stac/items/${blockId}.json`,
};
