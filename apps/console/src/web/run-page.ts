import { getJson, type RunView } from './api';
import { duration, el, rate } from './format';

const SVG = 'http://www.w3.org/2000/svg';
/** Between 1 and 2 s: live enough to watch, cheap for Redis (one bitmap read per poll). */
const POLL_MS = 1500;
const STATES = ['waiting', 'inferring', 'merged', 'failed'];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The mosaic's blocks at their place (pixel rectangles of the spec, north up), coloured by state. */
function blockGrid(run: RunView): SVGSVGElement {
  const { width, height } = run.mosaic!;
  const grid = svg('svg', { class: 'grid', id: 'block-grid', viewBox: `0 0 ${width} ${height}`, width: 480, height: Math.round((480 * height) / width) });
  // labels scale with the mosaic (viewBox units are mosaic pixels): about 12 screen pixels
  const fontPx = (12 * Math.max(width, height)) / 480;
  for (const b of run.blocks) {
    const g = svg('g', { 'data-block-id': b.id, 'data-state': b.state, 'data-windows-done': b.windowsDone, 'data-windows': b.windows });
    const rect = svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, class: `state-${b.state}` });
    const title = svg('title', {});
    title.textContent = `${b.id}: ${b.state}, ${b.windowsDone}/${b.windows} windows`;
    const label = svg('text', { x: b.x + b.width / 2, y: b.y + b.height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'middle', 'font-size': fontPx });
    label.textContent = `${b.id} ${b.windowsDone}/${b.windows}`;
    g.append(rect, title, label);
    grid.append(g);
  }
  return grid;
}

function render(view: HTMLElement, run: RunView): void {
  const w = run.windows;
  const summary = el('div', { class: 'summary', id: 'run-summary', 'data-status': run.status },
    el('span', {}, 'State ', el('b', {}, run.status)),
    el('span', {}, 'Windows ', el('b', {}, `${w.finished}/${w.total}`), ` (${w.done} inferred, ${w.skipped} without data, ${w.failed} failed)`),
    el('span', {}, 'Rate ', el('b', {}, rate(run.rate))),
    el('span', {}, 'ETA ', el('b', {}, duration(run.etaS))));
  const parts: Node[] = [el('h1', {}, `Run ${run.runId}`), summary];
  if (run.mosaic && run.blocks.length) {
    const merged = run.blocks.filter((b) => b.state === 'merged').length;
    parts.push(el('p', {}, `Blocks: ${merged}/${run.blocks.length} merged`, ...(run.status === 'done' ? [' · ', el('a', { href: '#/map' }, 'see the map')] : [])),
      el('div', { class: 'keys' }, ...STATES.map((s) => el('span', {}, el('i', { class: `key-${s}`, style: `background: var(--${s})` }), s))),
      blockGrid(run));
  } else {
    parts.push(el('p', { class: 'muted' }, 'This run is no longer in Redis: its figures come from run.json. ', el('a', { href: '#/map' }, 'See the map.')));
  }
  if (run.failuresTotal) {
    const list = el('table', { id: 'failures' }, el('tr', {}, el('th', {}, 'Window'), el('th', {}, 'File'), el('th', {}, 'Message')));
    for (const f of run.failures) list.append(el('tr', {}, el('td', {}, f.window), el('td', {}, f.file ?? ''), el('td', { class: 'error' }, f.message)));
    parts.push(el('h2', {}, `Failures (${run.failuresTotal}${run.failuresTotal > run.failures.length ? `, first ${run.failures.length} shown` : ''})`), list);
  }
  view.replaceChildren(...parts);
}

/** A run's page, polled until the page changes or the run is done. */
export async function showRun(view: HTMLElement, runId: string, isCurrent: () => boolean): Promise<void> {
  for (;;) {
    const run = await getJson<RunView>(`/api/runs/${encodeURIComponent(runId)}`);
    if (!isCurrent()) return;
    render(view, run);
    if (run.source === 'output' || run.status === 'done') return;
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (!isCurrent()) return;
  }
}
