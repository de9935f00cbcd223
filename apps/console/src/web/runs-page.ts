import { getJson, type RunSummary } from './api';
import { duration, el, rate } from './format';

/** The runs known to Redis and to the output, newest first; each links to its page. */
export async function showRuns(view: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const { runs, redisError } = await getJson<{ runs: RunSummary[]; redisError?: string }>('/api/runs');
  if (!isCurrent()) return;
  view.replaceChildren(el('h1', {}, 'Runs'));
  if (redisError) view.append(el('p', { class: 'error', id: 'redis-error' }, `${redisError}: only the output's runs are listed.`));
  if (!runs.length) {
    view.append(el('p', { class: 'muted' }, 'No runs yet: none in Redis (REDIS_URL) nor in the output (run.json).'));
    return;
  }
  const table = el('table', { id: 'runs' },
    el('tr', {}, ...['Run', 'Created', 'State', 'Windows', 'Failed', 'Blocks merged', 'Rate', 'ETA', 'Known to'].map((h) => el('th', {}, h))));
  for (const r of runs) {
    table.append(el('tr', { 'data-run-id': r.runId },
      el('td', {}, el('a', { href: `#/run/${encodeURIComponent(r.runId)}` }, r.runId)),
      el('td', {}, r.createdAt.replace('T', ' ').slice(0, 19)),
      el('td', {}, r.status),
      el('td', { class: 'num' }, `${r.finished}/${r.windows}`),
      el('td', { class: r.failed ? 'num error' : 'num' }, String(r.failed)),
      el('td', { class: 'num' }, `${r.blocksMerged}/${r.blocks}`),
      el('td', { class: 'num' }, rate(r.rate)),
      el('td', { class: 'num' }, duration(r.etaS)),
      el('td', {}, r.known.join(', '))));
  }
  view.append(table);
}
