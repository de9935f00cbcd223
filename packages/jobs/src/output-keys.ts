/**
 * Object keys of a run's products in its output store. A run's products sit under runs/<runId>/;
 * the top level holds what users open (mosaic.vrt, stac/collection.json) and current.json, the
 * published run; intermediates under _work/<runId>/, so several runs can share an output.
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
  /** Everything a run publishes sits under its own prefix, so a run never overwrites another's map. */
  runPrefix: (runId: string) => `runs/${runId}/`,
  /** A block's COG. A block carried from an older run is not copied: its key stays the older run's. */
  block: (runId: string, blockId: string) => `runs/${runId}/blocks/${blockId}.tif`,
  runReport: (runId: string) => `runs/${runId}/run.json`,
  /** blockId -> object key of its COG (maybe under an older run's prefix), dalle identities, model hash. */
  manifest: (runId: string) => `runs/${runId}/manifest.json`,
  /** Hectares per class, per block and for the run. */
  areasCsv: (runId: string) => `runs/${runId}/areas.csv`,
  areasJson: (runId: string) => `runs/${runId}/areas.json`,
  /** The whole run downsampled, in the FLAIR palette, with a legend. */
  quicklook: (runId: string) => `runs/${runId}/quicklook.png`,
  /** Hectares gained and lost per class against the previously published run, and the dalles that changed. */
  changes: (runId: string) => `runs/${runId}/changes.json`,
  /** Where pixels changed since the previously published run, downsampled like the quicklook. */
  changesPng: (runId: string) => `runs/${runId}/changes.png`,
  /**
   * The same as changes.png without its legend, transparent where nothing changed, covering
   * exactly changes.json's `extent`: the layer a map viewer (fleet console) lays over the map.
   */
  changesMask: (runId: string) => `runs/${runId}/changes-mask.png`,
  /** STAC: an item per block under the run (hrefs relative to these files); one collection at the top. */
  stacItem: (runId: string, blockId: string) => `runs/${runId}/stac/items/${blockId}.json`,
  /** Top level: what users open. Rewritten only when a run is published, just before current.json. */
  mosaicVrt: 'mosaic.vrt',
  stacCollection: 'stac/collection.json',
  /**
   * The switch: {runId, publishedAt, manifest, report, previous, history}, written last, once every
   * product of the run is in place. A reader goes through it, so never sees a mix of two runs.
   */
  current: 'current.json',
};
