/**
 * Pure: which objects of older published runs to delete once a run is published, keeping the
 * last `keep` published runs whole. An object under a dropped run's prefix that a kept run's
 * manifest references (a block carried over, never copied) stays, and so does that run in the
 * history, so the block is collected once no kept run references it any more.
 */
export interface RetentionInput {
  /** Published run ids, newest first (the run just published first). */
  history: readonly string[];
  /** How many published runs are kept whole (FLEET_KEEP_RUNS, at least 1). */
  keep: number;
  /** Object keys each kept run's manifest references (its blocks' COGs). */
  referenced: ReadonlySet<string>;
  /** The objects listed under each dropped run's prefix (runs beyond `keep`). */
  listed: ReadonlyMap<string, readonly string[]>;
}

export interface RetentionPlan {
  /** Object keys to delete. */
  delete: string[];
  /** The history to record: kept runs, then dropped runs that still hold referenced objects. */
  history: string[];
}

export function planRetention(input: RetentionInput): RetentionPlan {
  if (!Number.isInteger(input.keep) || input.keep < 1) throw new Error(`FLEET_KEEP_RUNS must be a whole number >= 1, got ${input.keep}`);
  const kept = input.history.slice(0, input.keep);
  const toDelete: string[] = [];
  const history = [...kept];
  for (const runId of input.history.slice(input.keep)) {
    const keys = input.listed.get(runId) ?? [];
    const remaining = keys.filter((k) => input.referenced.has(k));
    toDelete.push(...keys.filter((k) => !input.referenced.has(k)));
    if (remaining.length > 0) history.push(runId);
  }
  return { delete: toDelete, history };
}
