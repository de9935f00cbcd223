import type { RunReport } from './run-report';

/** One line of the area table: a class in a block, or in the whole run (block "total"). */
export interface ClassAreaRow {
  block: string;
  classId: number;
  className: string;
  pixels: number;
  hectares: number;
}

export const RUN_TOTAL = 'total';

/**
 * Pure: hectares per class for each block and for the run, from the run report (the one
 * source of the figures run.json shows). Every class of the model appears for every block,
 * zero included, so the table pivots without gaps.
 */
export function classAreaRows(report: RunReport): ClassAreaRow[] {
  const rows: ClassAreaRow[] = [];
  for (const block of report.blocks) {
    for (const c of report.classes) {
      const key = String(c.id);
      rows.push({ block: block.id, classId: c.id, className: c.name, pixels: block.pixels[key] ?? 0, hectares: block.hectares[key] ?? 0 });
    }
  }
  for (const c of report.classes) rows.push({ block: RUN_TOTAL, classId: c.id, className: c.name, pixels: c.pixels, hectares: c.hectares });
  return rows;
}

const CSV_COLUMNS = ['block', 'class_id', 'class_name', 'pixels', 'hectares'] as const;

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** areas.csv: a header line, then one line per row, CRLF-free. */
export function classAreasCsv(rows: readonly ClassAreaRow[]): string {
  const lines = rows.map((r) => [r.block, r.classId, r.className, r.pixels, r.hectares].map(csvField).join(','));
  return [CSV_COLUMNS.join(','), ...lines].join('\n') + '\n';
}

/** areas.json: the same figures grouped by block, with the run total and the pixel area used. */
export function classAreasJson(report: RunReport, rows: readonly ClassAreaRow[]): object {
  const gt = report.mosaic.geoTransform;
  const byBlock = new Map<string, Array<Omit<ClassAreaRow, 'block'>>>();
  for (const { block, ...rest } of rows) {
    const list = byBlock.get(block) ?? [];
    list.push(rest);
    byBlock.set(block, list);
  }
  return {
    runId: report.runId,
    unit: 'ha',
    pixelAreaM2: Math.round(Math.abs(gt[1] * gt[5]) * 1e6) / 1e6, // 0.2 * 0.2 is 0.04000000000000001 in binary
    blocks: report.blocks.map((b) => ({ id: b.id, incomplete: b.incomplete, classes: byBlock.get(b.id) ?? [] })),
    total: byBlock.get(RUN_TOTAL) ?? [],
  };
}
