import { el } from './format';
import { showMap } from './map-page';
import { showRun } from './run-page';
import { showRuns } from './runs-page';

/**
 * A hash router over the three pages: #/ (runs), #/run/<id> (a run, live), #/map (the published
 * map, optionally #/map?x=..&y=..&res=..). Each page load gets a generation number, so a page
 * left while it polls stops writing into the next one.
 */
let generation = 0;

async function route(): Promise<void> {
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  const view = document.getElementById('view')!;
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(search);
  document.body.dataset.view = path.startsWith('/run/') ? 'run' : path === '/map' ? 'map' : 'runs';
  view.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  try {
    if (path.startsWith('/run/')) await showRun(view, decodeURIComponent(path.slice('/run/'.length)), isCurrent);
    else if (path === '/map') await showMap(view, query, isCurrent);
    else await showRuns(view, isCurrent);
  } catch (err) {
    if (isCurrent()) view.replaceChildren(el('p', { class: 'error', id: 'page-error' }, (err as Error).message));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
