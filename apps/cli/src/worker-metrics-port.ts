import { CliError } from './cli-error';

/**
 * FLEET_METRICS_PORT of `fleet run`'s worker i: the run's own process (coordinator and merger)
 * listens on the port given, its workers on the ports after it (port+1+i), so one setting
 * scrapes the whole run on one machine. Unset or 0: no metrics server anywhere.
 */
export function workerMetricsEnv(basePort: string | undefined, workerIndex: number, workers: number): { FLEET_METRICS_PORT?: string } {
  if (basePort === undefined || basePort.trim() === '' || Number(basePort) === 0) return {};
  const base = Number(basePort);
  if (!Number.isInteger(base) || base < 0 || base + workers > 65_535) {
    throw new CliError(`FLEET_METRICS_PORT=${basePort}: fleet run needs it and the ${workers} port(s) after it for its workers, all within 1..65535`, 2);
  }
  return { FLEET_METRICS_PORT: String(base + 1 + workerIndex) };
}
