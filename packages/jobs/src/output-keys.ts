/**
 * Object keys of a run's products in its output store. Final products sit at the top (what
 * users open); intermediates under _work/<runId>/, so several runs can share an output.
 */
export const outputKeys = {
  maskTile: (runId: string, windowId: string) => `_work/${runId}/tiles/${windowId}.tile`,
  block: (blockId: string) => `blocks/${blockId}.tif`,
  mosaicVrt: 'mosaic.vrt',
  runReport: 'run.json',
};
