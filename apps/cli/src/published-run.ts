import { outputKeys } from '@fleet/jobs';
import { readCurrentRun, type RunReport } from '@fleet/merger';
import type { ObjectStore } from '@fleet/storage';
import { join } from 'node:path';

/** A run whose inputs, model, geometry and output are those of the map already published. */
export interface UnchangedRun {
  runId: string;
  /** The published run's report (runs/<runId>/run.json), left as it was. */
  published: RunReport;
}

/**
 * The report of the published run (current.json names it: runs/<runId>/run.json), or undefined
 * when there is none yet. One that cannot be read or parsed counts as none: the run then goes
 * ahead and publishes a new one, which is what a user who removed or broke it wants.
 */
export async function readPublishedReport(store: ObjectStore): Promise<RunReport | undefined> {
  let bytes: Buffer;
  try {
    const current = await readCurrentRun(store);
    if (!current || (await store.head(current.report)) === undefined) return undefined;
    bytes = await store.get(current.report);
  } catch {
    return undefined;
  }
  try {
    const report = JSON.parse(bytes.toString('utf8')) as Partial<RunReport>;
    return typeof report.runId === 'string' && typeof report.complete === 'boolean' && typeof report.finishedAt === 'string' ? (report as RunReport) : undefined;
  } catch {
    return undefined;
  }
}

/** HEADs in flight when checking the published files (a département has ~400 blocks). */
const HEAD_CONCURRENCY = 16;

/**
 * Whether every file the published map is made of is still there (current.json, `mosaic.vrt`
 * and each block its run.json lists): a map someone removed files from is not reported as published and
 * unchanged; the run then goes ahead as any run of the same id does (resumed from its state).
 */
export async function publishedMapIntact(store: ObjectStore, report: RunReport): Promise<boolean> {
  const keys = [outputKeys.current, outputKeys.mosaicVrt, ...(Array.isArray(report.blocks) ? report.blocks.map((b) => b.key) : [])];
  let next = 0;
  let intact = true;
  const lane = async () => {
    while (intact && next < keys.length) {
      const key = keys[next++]!;
      if ((await store.head(key)) === undefined) intact = false;
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, keys.length) }, lane));
  return intact;
}

/**
 * Whether the planned run is the one already published, complete: its id is derived from every
 * dalle's version, the model's bytes, the geometry and the output, so the same id means nothing
 * changed since. An explicit --run-id says nothing about the inputs, so it never matches.
 */
export function isUnchanged(published: RunReport | undefined, runId: string, explicitRunId: boolean): published is RunReport {
  return !explicitRunId && published !== undefined && published.runId === runId && published.complete;
}

/** The line `fleet run` prints when nothing changed. */
export function unchangedMessage(run: UnchangedRun, output: string): string {
  const map = output.startsWith('s3://') ? `${output.replace(/\/$/, '')}/${outputKeys.mosaicVrt}` : join(output, outputKeys.mosaicVrt);
  return `nothing changed since run ${run.runId} (published ${run.published.finishedAt}): no window inferred, nothing republished; the map is ${map}`;
}

/** What a failed night adds to its error: the map users see is still the last published one. */
export function stillPublishedNote(published: RunReport | undefined): string {
  return published ? `the published map is still run ${published.runId}'s (published ${published.finishedAt}): current.json and mosaic.vrt are unchanged` : 'no map is published in this output yet';
}
