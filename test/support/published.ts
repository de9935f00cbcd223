import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The published run's report in a local output: current.json -> runs/<runId>/run.json. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function publishedReport(out: string): any {
  const current = JSON.parse(readFileSync(join(out, 'current.json'), 'utf8')) as { report: string };
  return JSON.parse(readFileSync(join(out, current.report), 'utf8'));
}

/** A run's report in a local output, published or not. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function runReport(out: string, runId: string): any {
  return JSON.parse(readFileSync(join(out, 'runs', runId, 'run.json'), 'utf8'));
}

/** Where the published run's block `blockId` is (made by that run) in a local output. */
export function publishedBlock(out: string, blockId: string): string {
  const current = JSON.parse(readFileSync(join(out, 'current.json'), 'utf8')) as { runId: string };
  return join(out, 'runs', current.runId, 'blocks', `${blockId}.tif`);
}
