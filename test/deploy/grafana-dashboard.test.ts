/**
 * infra/grafana/flair-fleet.json against the code: every metric a panel queries is one the
 * processes export (names built from the same classes the worker, merger and preparer use), and
 * every label a selector filters on is one that metric carries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { MergerMetrics, PreparerMetrics, registerQueueMetrics, WorkerMetrics } from '../../packages/metrics/src';

const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'infra', 'grafana', 'flair-fleet.json'), 'utf8')) as {
  panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; query?: unknown; definition?: string }> };
};

/** Every series name the processes export, with the labels each carries. */
function exported(): Map<string, Set<string>> {
  const registry = new Registry();
  registry.setDefaultLabels({ fleet_process: 'x' });
  collectDefaultMetrics({ register: registry });
  new WorkerMetrics(registry, () => ({ hits: 0, misses: 0, bytes: 0 }));
  new MergerMetrics(registry);
  new PreparerMetrics(registry);
  registerQueueMetrics(registry, []);
  const names = new Map<string, Set<string>>();
  for (const m of registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string; labelNames?: string[] }>) {
    const labels = new Set(['fleet_process', ...(m.labelNames ?? [])]);
    names.set(m.name, labels);
    if (m.type === 'histogram') {
      names.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      names.set(`${m.name}_sum`, labels);
      names.set(`${m.name}_count`, labels);
    }
  }
  return names;
}

const METRIC = /\b((?:fleet|process|nodejs)_[a-z0-9_]+)\b(\{[^}]*\})?/g;
/** Label lists of aggregations (`by (fleet_process, pod)`) name labels, not metrics. */
const metricsOf = (expr: string) => expr.replace(/\b(?:by|without)\s*\([^)]*\)/g, '').matchAll(METRIC);

const exprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
  ...dashboard.templating.list.filter((v) => v.definition).map((v) => ({ where: `variable ${v.name}`, expr: v.definition! })),
];

describe('Grafana dashboard infra/grafana/flair-fleet.json', () => {
  const names = exported();

  it('queries fleet metrics in most panels', () => {
    const fleet = exprs.filter((e) => /\bfleet_/.test(e.expr));
    expect(fleet.length).toBeGreaterThanOrEqual(15);
    // the list: windows, batch, inference, steps, tile cache, provider, merges, blocks, queues
    const used = new Set(exprs.flatMap((e) => [...metricsOf(e.expr)].map((m) => m[1]!)));
    for (const name of ['fleet_worker_windows_total', 'fleet_worker_batch_windows_sum', 'fleet_worker_inference_seconds_bucket', 'fleet_worker_read_seconds_bucket', 'fleet_worker_encode_seconds_bucket', 'fleet_worker_upload_seconds_bucket', 'fleet_worker_tile_cache_hits_total', 'fleet_worker_tile_cache_misses_total', 'fleet_worker_provider_info', 'fleet_merger_merges_total', 'fleet_merger_blocks_merged_total', 'fleet_merger_merge_seconds_bucket', 'fleet_queue_jobs']) {
      expect([name, used.has(name)]).toEqual([name, true]);
    }
  });

  it.each(exprs.map((e) => [e.where, e.expr] as const))('%s: every metric is exported and every filtered label exists (%s)', (_where, expr) => {
    for (const m of metricsOf(expr)) {
      const name = m[1]!;
      expect([name, names.has(name)]).toEqual([name, true]);
      const selector = m[2];
      if (!selector) continue;
      for (const [, label] of selector.matchAll(/([a-z_]+)\s*=~?/g)) expect([name, label, names.get(name)!.has(label!)]).toEqual([name, label, true]);
    }
  });

  it('an unknown metric would be caught', () => {
    expect(names.has('fleet_worker_windows_done_total')).toBe(false);
    expect(names.has('fleet_worker_windows_total')).toBe(true);
  });
});
