export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function rate(windowsPerS: number | undefined): string {
  return windowsPerS === undefined ? '–' : `${windowsPerS.toFixed(windowsPerS < 10 ? 1 : 0)} windows/s`;
}

export function hectares(ha: number): string {
  return ha.toLocaleString('en-GB', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
}
