/** What readiness reads of a BullMQ Worker. */
export interface ConsumerState {
  isRunning(): boolean;
  isPaused(): boolean;
  readonly closing: Promise<void> | undefined;
}

/**
 * Reasons a consumer does not take jobs now; none = it does. Paused counts: the consumer pauses
 * itself while Redis refuses writes (maxmemory), and takes no job then.
 */
export function consumerProblems(consumer: ConsumerState | undefined): string[] {
  if (!consumer) return ['consumer not started yet'];
  if (consumer.closing) return ['consumer closing (shutting down)'];
  if (!consumer.isRunning()) return ['consumer not running'];
  if (consumer.isPaused()) return ['consumer paused (Redis out of memory)'];
  return [];
}
