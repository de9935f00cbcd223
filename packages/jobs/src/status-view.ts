/**
 * `@fleet/jobs/status-view`: what reading a run's progress and its queues' depths needs, and
 * nothing that loads zod (the job catalogue, RunSpec's schema), BullMQ's Queue or the run's Lua
 * scripts, which this package's index does. `fleet status` starts from here (BENCHMARKS.md,
 * "CLI start"; test/e2e/cli-start.test.ts checks what it loads).
 */
export { QUEUES, type QueueName } from './queue-names';
export { runKeys } from './run-keys';
export { runFatalFailures } from './run-failure';
export { RunView, type BlockProgress, type RunProgress } from './run-view';
export { UnreadableRunSpec, type ProgressSpec } from './progress-spec';
export { COUNTED_STATES, queueJobCounts, type CountedState } from './queue-counts';
