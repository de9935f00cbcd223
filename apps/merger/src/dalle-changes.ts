import type { InputIdentity } from '@fleet/jobs';

/** Per source: the dalle keys whose version changed, that are new, that are gone. */
export type DalleChangesBySource = Record<string, { changed: string[]; added: string[]; removed: string[] }>;

/**
 * Pure: the dalles that changed between two runs' identities (the same comparison the refresh
 * plan makes: a key present in both with another version is changed). Sources with no change
 * are left out.
 */
export function dalleChanges(previous: InputIdentity, next: InputIdentity): DalleChangesBySource {
  const out: DalleChangesBySource = {};
  const sources = [...new Set([...Object.keys(previous.dalles), ...Object.keys(next.dalles)])].sort();
  for (const source of sources) {
    const before = previous.dalles[source] ?? {};
    const after = next.dalles[source] ?? {};
    const changed = Object.keys(after).filter((k) => k in before && before[k] !== after[k]).sort();
    const added = Object.keys(after).filter((k) => !(k in before)).sort();
    const removed = Object.keys(before).filter((k) => !(k in after)).sort();
    if (changed.length + added.length + removed.length > 0) out[source] = { changed, added, removed };
  }
  return out;
}
