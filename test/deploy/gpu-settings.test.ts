/**
 * The shipped GPU fleet's settings are the ones RELIABILITY.md recommends: its lock/stalled/
 * batch/provider table ("Default" and "GPU fleet" columns) is read here and compared with the
 * code's defaults (the env schemas) and with the worker and merger ConfigMaps. Changing one
 * without the other fails this test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { mergerEnvShape } from '../../apps/merger/src/env';
import { workerEnvShape } from '../../apps/worker/src/env';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Recommendation {
  variable: string;
  byDefault: string;
  gpuFleet: string;
}

/** Rows of RELIABILITY.md's settings table: `| \`FLEET_X\` (new) | 60 000 | 15 000 | why |`. */
function recommendations(markdown: string): Recommendation[] {
  const rows: Recommendation[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const variable = /^`(FLEET_[A-Z_]+)`/.exec(cells[1] ?? '')?.[1];
    if (!variable || cells.length < 5) continue;
    // "60 000" is written with thin spaces for reading; the ConfigMap holds "60000"
    rows.push({ variable, byDefault: cells[2]!.replace(/\s/g, ''), gpuFleet: cells[3]!.replace(/\s/g, '') });
  }
  return rows;
}

function configMap(name: string): Record<string, string> {
  const doc = parseAllDocuments(read('infra/k8s/configmap.yaml'))
    .map((d) => d.toJS())
    .find((d) => d?.kind === 'ConfigMap' && d.metadata?.name === name);
  if (!doc) throw new Error(`configmap.yaml has no ConfigMap ${name}`);
  return doc.data as Record<string, string>;
}

const rows = recommendations(read('RELIABILITY.md'));
const shapes: Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }> = { ...workerEnvShape, ...mergerEnvShape };
const deployed = { ...configMap('flair-fleet-worker'), ...configMap('flair-fleet-merger') };

describe("RELIABILITY.md's GPU fleet settings", () => {
  it('covers lock, stalled check, batch and provider', () => {
    expect(rows.map((r) => r.variable)).toEqual(
      expect.arrayContaining(['FLEET_LOCK_MS', 'FLEET_STALLED_MS', 'FLEET_BATCH_SIZE', 'FLEET_PROVIDER', 'FLEET_MERGE_LOCK_MS', 'FLEET_MERGE_STALLED_MS']),
    );
  });

  it.each(rows.map((r) => [r.variable, r] as const))("%s: the Default column is the code's default", (variable, row) => {
    const parsed = shapes[variable]!.safeParse(undefined);
    expect(parsed.success).toBe(true);
    expect(String(parsed.data)).toBe(row.byDefault);
  });

  it.each(rows.map((r) => [r.variable, r] as const))('%s: the GPU ConfigMaps ship the GPU fleet column', (variable, row) => {
    // a setting equal to the default may be left out of the ConfigMap
    expect(deployed[variable] ?? row.byDefault).toBe(row.gpuFleet);
  });
});
