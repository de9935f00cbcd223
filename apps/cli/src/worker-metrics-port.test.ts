import { workerMetricsEnv } from './worker-metrics-port';

describe('workerMetricsEnv', () => {
  it('gives no port when FLEET_METRICS_PORT is unset or 0', () => {
    expect(workerMetricsEnv(undefined, 0, 2)).toEqual({});
    expect(workerMetricsEnv('0', 1, 2)).toEqual({});
    expect(workerMetricsEnv('', 1, 2)).toEqual({});
  });

  it('gives worker i the port base+1+i (the run process keeps the base)', () => {
    expect([0, 1, 2].map((i) => workerMetricsEnv('9464', i, 3))).toEqual([{ FLEET_METRICS_PORT: '9465' }, { FLEET_METRICS_PORT: '9466' }, { FLEET_METRICS_PORT: '9467' }]);
  });

  it('refuses a base whose workers would run past the last port, naming the variable', () => {
    expect(() => workerMetricsEnv('65534', 0, 2)).toThrow('FLEET_METRICS_PORT=65534: fleet run needs it and the 2 port(s) after it');
    expect(() => workerMetricsEnv('abc', 0, 1)).toThrow('FLEET_METRICS_PORT=abc');
  });
});
