/**
 * BullMQ concurrency (group jobs held at once) for groups of `groupWindows` windows: enough
 * groups that their windows fill the process-wide limit of 2 x batch in flight (one-window
 * groups: 2 x batch jobs, as when every window was a job), plus one so the next group is in
 * hand while the last windows of a group drain; never more, so a worker does not hoard
 * 64-window groups other workers could take.
 */
export function groupConcurrency(windowsInFlight: number, groupWindows: number): number {
  return Math.min(windowsInFlight, Math.ceil(windowsInFlight / Math.max(1, groupWindows)) + 1);
}
