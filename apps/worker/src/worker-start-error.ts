/**
 * The worker cannot start as configured (its provider cannot be loaded, FLEET_MODEL cannot be
 * loaded): a configuration problem, so `exitCode` 2, as the CLI's usage errors.
 */
export class WorkerStartError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'WorkerStartError';
  }
}
