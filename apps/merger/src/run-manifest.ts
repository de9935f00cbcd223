import { outputKeys, type InputIdentity, type RunSpec } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';
import type { RunReport } from './run-report';

/**
 * A run's manifest (runs/<runId>/manifest.json): the object key of each block's COG, which is
 * under an older run's prefix for a block carried over (the key comes from its BlockResult),
 * and the identities of what it was made from. What retention keeps and changes.json compares.
 */
export interface RunManifest {
  runId: string;
  /** blockId -> object key of its COG. */
  blocks: Record<string, string>;
  /** source -> dalle key -> version; model content hash (absent for runs planned before identities). */
  inputs?: InputIdentity;
  /** The run published before this one, when there was one. */
  previous: string | null;
}

/** Pure: the manifest of a finished run. */
export function buildManifest(spec: RunSpec, report: RunReport, previous: string | null): RunManifest {
  return {
    runId: spec.runId,
    blocks: Object.fromEntries([...report.blocks].sort((a, b) => a.id.localeCompare(b.id)).map((b) => [b.id, b.key])),
    ...(spec.inputs ? { inputs: spec.inputs } : {}),
    previous,
  };
}

/** A run's manifest, or undefined when it has none (deleted, or never published) or it does not parse. */
export async function readManifest(store: ObjectStore, runId: string): Promise<RunManifest | undefined> {
  const key = outputKeys.manifest(runId);
  try {
    if ((await store.head(key)) === undefined) return undefined;
    const json = JSON.parse((await store.get(key)).toString('utf8')) as Partial<RunManifest>;
    return typeof json.runId === 'string' && json.blocks && typeof json.blocks === 'object' ? (json as RunManifest) : undefined;
  } catch {
    return undefined;
  }
}
