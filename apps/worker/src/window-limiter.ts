/**
 * A process-wide cap on windows in flight, FIFO. The inference engine batches the infer calls
 * that are pending at once, so about 2 x FLEET_BATCH_SIZE windows should be in flight whatever
 * the group size: one-window groups from many jobs fill a batch together, and a 64-window group
 * does not start all its reads at once (memory) or starve the groups behind it.
 * Hand-written (a dozen lines) rather than p-limit: p-limit is not a dependency of the project,
 * and adding one would touch the lock file other work also changes.
 */
export class WindowLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`window limit must be a positive integer, got ${limit}`);
  }

  /** Runs `task` once fewer than `limit` tasks run; tasks start in the order they were given. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // the slot passes straight to the next task, so a newcomer cannot jump the queue
      if (next) next();
      else this.active--;
    }
  }

  /** Tasks running and waiting. */
  get pending(): number {
    return this.active + this.waiting.length;
  }
}
