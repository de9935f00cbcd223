import { ObjectNotFoundError, type ObjectStore } from '@fleet/storage';

/**
 * The ONE place that knows how a published output is laid out. Two layouts exist:
 * - per-run publication: `current.json` at the top ({ runId, publishedAt, manifest, report, ... })
 *   naming `runs/<runId>/manifest.json` ({ blocks: blockId -> object key of its COG, possibly
 *   under an older run's prefix }) next to `runs/<runId>/{run.json, areas.json, changes.json,
 *   changes-mask.png}`;
 * - the flat layout: `run.json`, `areas.json`, `blocks/<id>.tif` at the top.
 * current.json wins when present; everything else in the console asks this module.
 */

export interface MapClass {
  id: number;
  name: string;
  color: string;
}

export interface PublishedRun {
  runId: string;
  layout: 'current' | 'flat';
  publishedAt?: string;
  /** Key of the run's report (run.json). */
  reportKey: string;
  /** The report as the merger wrote it (see @fleet/merger RunReport). */
  report: PublishedReport;
  /** The map's blocks and the object keys of their COGs. */
  blocks: Array<{ id: string; key: string }>;
  areasKey?: string;
  /** What changed since the previous publication: only when changes.json exists. */
  changes?: { jsonKey: string; pngKey?: string };
}

/** The fields of run.json the console reads (the rest is passed through untouched). */
export interface PublishedReport {
  runId: string;
  createdAt?: string;
  finishedAt?: string;
  wallSeconds?: number;
  complete?: boolean;
  classes?: Array<MapClass & { hectares?: number; pixels?: number }>;
  windows?: { total: number; done: number; skipped: number; failed: number; failures?: Array<{ window: string; error: string }> };
  blocks?: Array<{ id: string; key: string; incomplete?: boolean }>;
  mosaic?: { width: number; height: number; geoTransform: number[]; epsg: number };
}

const CURRENT_KEY = 'current.json';
const FLAT_REPORT_KEY = 'run.json';
const FLAT_AREAS_KEY = 'areas.json';
const RUN_REPORT = /^runs\/([A-Za-z0-9_-]{1,64})\/run\.json$/;

interface CurrentPointer {
  runId: string;
  publishedAt?: string;
  manifest: string;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  let body: Buffer;
  try {
    body = await store.get(key);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new Error(`${store.location}/${key}: not valid JSON (${(err as Error).message})`);
  }
}

function parseCurrent(raw: unknown, location: string): CurrentPointer {
  const c = raw as Partial<CurrentPointer> | null;
  if (!c || typeof c.runId !== 'string' || typeof c.manifest !== 'string') {
    throw new Error(`${location}/${CURRENT_KEY}: expected { runId, manifest } strings`);
  }
  return { runId: c.runId, manifest: c.manifest, ...(typeof c.publishedAt === 'string' ? { publishedAt: c.publishedAt } : {}) };
}

/** The run the output publishes now, or undefined when nothing is published yet. */
export async function readPublishedRun(store: ObjectStore): Promise<PublishedRun | undefined> {
  const current = await readJson<unknown>(store, CURRENT_KEY);
  if (current !== undefined) {
    const pointer = parseCurrent(current, store.location);
    const runDir = `runs/${pointer.runId}`;
    // runs/<id>/manifest.json: { runId, blocks: { blockId: key }, ... } (apps/merger run-manifest.ts)
    const manifest = await readJson<{ blocks?: Record<string, string> }>(store, pointer.manifest);
    if (!manifest) throw new Error(`${store.location}/${pointer.manifest}: named by ${CURRENT_KEY} but missing`);
    const reportKey = `${runDir}/run.json`;
    const report = await readJson<PublishedReport>(store, reportKey);
    if (!report) throw new Error(`${store.location}/${reportKey}: named by ${CURRENT_KEY} but missing`);
    // changes-mask.png: the legend-free, transparent change layer over changes.json's extent
    const changes = (await store.head(`${runDir}/changes.json`))
      ? { jsonKey: `${runDir}/changes.json`, ...((await store.head(`${runDir}/changes-mask.png`)) ? { pngKey: `${runDir}/changes-mask.png` } : {}) }
      : undefined;
    return {
      runId: pointer.runId,
      layout: 'current',
      ...(pointer.publishedAt ? { publishedAt: pointer.publishedAt } : {}),
      reportKey,
      report,
      blocks: Object.entries(manifest.blocks ?? {}).map(([id, key]) => ({ id, key })).sort((a, b) => a.id.localeCompare(b.id)),
      ...((await store.head(`${runDir}/areas.json`)) ? { areasKey: `${runDir}/areas.json` } : {}),
      ...(changes ? { changes } : {}),
    };
  }
  const report = await readJson<PublishedReport>(store, FLAT_REPORT_KEY);
  if (!report) return undefined;
  return {
    runId: report.runId,
    layout: 'flat',
    reportKey: FLAT_REPORT_KEY,
    report,
    blocks: (report.blocks ?? []).map((b) => ({ id: b.id, key: b.key })),
    ...((await store.head(FLAT_AREAS_KEY)) ? { areasKey: FLAT_AREAS_KEY } : {}),
  };
}

/** Every run report the output holds: runs/<id>/run.json of each publication, or the flat run.json. */
export async function readOutputReports(store: ObjectStore): Promise<PublishedReport[]> {
  const reports: PublishedReport[] = [];
  if (await store.head(CURRENT_KEY)) {
    for (const key of await store.list('runs/')) {
      if (!RUN_REPORT.test(key)) continue;
      const report = await readJson<PublishedReport>(store, key);
      if (report) reports.push(report);
    }
  }
  const flat = await readJson<PublishedReport>(store, FLAT_REPORT_KEY);
  if (flat && !reports.some((r) => r.runId === flat.runId)) reports.push(flat);
  return reports;
}

/** One run's report from the output, whichever layout holds it. */
export async function readOutputReport(store: ObjectStore, runId: string): Promise<PublishedReport | undefined> {
  const perRun = await readJson<PublishedReport>(store, `runs/${runId}/run.json`);
  if (perRun) return perRun;
  const flat = await readJson<PublishedReport>(store, FLAT_REPORT_KEY);
  return flat?.runId === runId ? flat : undefined;
}
