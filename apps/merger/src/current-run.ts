import { outputKeys } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';

/**
 * current.json, the switch: which run the top-level files (mosaic.vrt, stac/collection.json)
 * belong to. Written last when a run is published, so a reader that starts from it never sees
 * a mix of two runs; a failed night never writes it, so yesterday's map stays published.
 */
export interface CurrentRun {
  runId: string;
  publishedAt: string;
  /** Keys of the run's manifest and report. */
  manifest: string;
  report: string;
  /** The run published before, if any. */
  previous: string | null;
  /** Published runs whose prefixes still hold objects, newest first (what FLEET_KEEP_RUNS counts). */
  history: string[];
}

/** current.json, or undefined when nothing is published yet or it cannot be read or parsed. */
export async function readCurrentRun(store: ObjectStore): Promise<CurrentRun | undefined> {
  try {
    if ((await store.head(outputKeys.current)) === undefined) return undefined;
    const json = JSON.parse((await store.get(outputKeys.current)).toString('utf8')) as Partial<CurrentRun>;
    if (typeof json.runId !== 'string' || typeof json.report !== 'string' || typeof json.manifest !== 'string') return undefined;
    return { previous: null, publishedAt: '', ...json, history: Array.isArray(json.history) ? json.history.filter((h): h is string => typeof h === 'string') : [json.runId] } as CurrentRun;
  } catch {
    return undefined;
  }
}
