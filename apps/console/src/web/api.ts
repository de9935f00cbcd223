/** GETs JSON from the console's server; an error answer becomes an Error with its one sentence. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `${path}: HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

/** Like getJson, but undefined on 404 (something not there yet, like a map before the first run). */
export async function getJsonIfAny<T>(path: string): Promise<T | undefined> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** The URL of an output file served by the console (keys keep their slashes). */
export function fileUrl(key: string): string {
  return `/files/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export interface RunSummary {
  runId: string;
  createdAt: string;
  status: string;
  windows: number;
  finished: number;
  failed: number;
  blocks: number;
  blocksMerged: number;
  known: string[];
  rate?: number;
  etaS?: number;
}

export interface RunView {
  runId: string;
  status: string;
  source: 'redis' | 'output';
  createdAt: string;
  windows: { total: number; done: number; skipped: number; failed: number; finished: number };
  rate?: number;
  etaS?: number;
  mosaic?: { width: number; height: number };
  blocks: Array<{ id: string; x: number; y: number; width: number; height: number; state: string; windows: number; windowsDone: number }>;
  failures: Array<{ window: string; message: string; file?: string }>;
  failuresTotal: number;
}

export interface MapInfo {
  runId: string;
  layout: string;
  publishedAt?: string;
  classes: Array<{ id: number; name: string; color: string }>;
  blocks: Array<{ id: string; key: string }>;
  areasKey?: string;
  changes?: { jsonKey: string; pngKey?: string };
}

/** areas.json as the merger writes it (apps/merger class-areas.ts). */
export interface AreasJson {
  runId: string;
  unit: string;
  total: Array<{ classId: number; className: string; pixels: number; hectares: number }>;
}
