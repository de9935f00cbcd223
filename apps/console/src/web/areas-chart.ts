import type { AreasJson, MapInfo } from './api';
import { el, hectares } from './format';

const SVG = 'http://www.w3.org/2000/svg';

/** The legend: each class's colour, id, name and hectares (areas.json's run total). */
export function legend(classes: MapInfo['classes'], areas: AreasJson | undefined): HTMLUListElement {
  const ha = new Map(areas?.total.map((t) => [t.classId, t.hectares]));
  const list = el('ul', { class: 'legend', id: 'legend' });
  for (const c of classes) {
    const value = ha.get(c.id);
    list.append(el('li', { 'data-class-id': String(c.id), ...(value === undefined ? {} : { 'data-hectares': String(value) }) },
      el('span', { class: 'swatch', style: `background:${c.color}` }),
      el('span', {}, `${c.id} ${c.name}`),
      el('span', { class: 'ha' }, value === undefined ? '' : `${hectares(value)} ha`)));
  }
  return list;
}

/** Hectares per class as horizontal bars (plain SVG: one chart does not need a library). */
export function areasChart(classes: MapInfo['classes'], areas: AreasJson): SVGSVGElement {
  const colors = new Map(classes.map((c) => [c.id, c.color]));
  const rows = areas.total.filter((t) => t.hectares > 0).sort((a, b) => b.hectares - a.hectares);
  const max = Math.max(...rows.map((r) => r.hectares), 1e-9);
  const rowH = 18;
  const width = 300;
  const labelW = 110;
  const chart = document.createElementNS(SVG, 'svg');
  chart.setAttribute('class', 'chart');
  chart.setAttribute('id', 'areas-chart');
  chart.setAttribute('width', String(width));
  chart.setAttribute('height', String(rows.length * rowH + 4));
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const barW = ((width - labelW - 60) * r.hectares) / max;
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', '0');
    label.setAttribute('y', String(y + 12));
    label.textContent = r.className.slice(0, 18);
    const bar = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({ x: labelW, y, width: Math.max(1, barW), height: rowH - 4, fill: colors.get(r.classId) ?? '#888' })) bar.setAttribute(k, String(v));
    const value = document.createElementNS(SVG, 'text');
    value.setAttribute('x', String(labelW + barW + 4));
    value.setAttribute('y', String(y + 12));
    value.textContent = `${hectares(r.hectares)} ha`;
    chart.append(label, bar, value);
  });
  return chart;
}
