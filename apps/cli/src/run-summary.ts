import { outputKeys } from '@fleet/jobs';
import type { RunReport } from '@fleet/merger';
import { join } from 'node:path';

/** Where the map is and what it holds, on stdout. */
/** `alreadyDone`: windows an earlier, interrupted `fleet run` of this run had finished (not inferred again). */
export function printRunSummary(report: RunReport, output: string, logDir: string, alreadyDone = 0): void {
  const at = (key: string) => (output.startsWith('s3://') ? `${output.replace(/\/$/, '')}/${key}` : join(output, key));
  const w = report.windows;
  const top = [...report.classes].sort((a, b) => b.hectares - a.hectares).slice(0, 5);
  const lines = [
    `run ${report.runId}: ${w.done} windows inferred, ${w.skipped} without data, ${w.failed} failed, ${report.blocks.length} block(s) in ${report.wallSeconds} s`,
    ...(alreadyDone > 0 ? [`resumed: ${alreadyDone} of ${w.total} windows were already done by an earlier, interrupted fleet run`] : []),
    `map:    ${at(outputKeys.mosaicVrt)}`,
    `report: ${at(outputKeys.runReport(report.runId))}`,
    `also:   ${at(outputKeys.quicklook(report.runId))}, ${at(outputKeys.areasCsv(report.runId))}, ${at(outputKeys.changes(report.runId))}, ${at(outputKeys.stacCollection)}`,
    `mask tiles: ${report.bytes.perWindow} bytes per window on average; compute factor ${report.computeFactor}x`,
    `largest classes: ${top.map((c) => `${c.name} ${c.hectares} ha`).join(', ')}`,
    `logs:   ${logDir}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
