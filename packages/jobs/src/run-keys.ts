/** Redis keys of one run's state, all under the fleet's prefix. */
export function runKeys(prefix: string, runId: string) {
  const base = `${prefix}:run:${runId}`;
  return {
    spec: `${base}:spec`,
    status: `${base}:status`,
    report: `${base}:report`,
    stats: `${base}:stats`,
    /** Bitmaps by window index: a window is done once, whatever its outcome. */
    windowsDone: `${base}:windows-done`,
    windowsSkipped: `${base}:windows-skipped`,
    windowsFailed: `${base}:windows-failed`,
    /** A refresh's windows carried from the previous run (marked done from the start, not inferred). */
    windowsCarried: `${base}:windows-carried`,
    failures: `${base}:failures`,
    /** Hash blockId -> windows still to finish before the block can merge. */
    blockRemaining: `${base}:block-remaining`,
    blocksMerged: `${base}:blocks-merged`,
    blocksRemaining: `${base}:blocks-remaining`,
    blockResults: `${base}:block-results`,
    /**
     * Bitmap of windows a `fleet retry` has reset and is re-enqueueing: a retry that stops
     * half-way finds here the windows it must still enqueue (deleted once all are queued).
     */
    retrying: `${base}:retrying`,
    /** Set once the run state was rebuilt from the output store (see RunRestore). */
    reconciled: `${base}:reconciled`,
    /** Hash "block <id>" | "finalize" -> error: what failed for good (see run-failure.ts). */
    fatal: `${base}:fatal`,
  };
}

export const runsIndexKey = (prefix: string) => `${prefix}:runs`;
