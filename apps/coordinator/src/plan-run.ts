import { DEFAULT_WINDOW_WEIGHTING } from '@fleet/blend';
import { chooseGroupSide, planWindows, RunGeometry, type Block, type WindowPlan } from '@fleet/grid';
import type { InputIdentity, RunSpec, SourceRole } from '@fleet/jobs';
import type { ObjectStore } from '@fleet/storage';
import { loadModelManifest, type ModelManifest } from '@fleet/model';
import { layOutMosaic, PRIMARY_ROLES, scanSource, type ScannedSource } from '@fleet/raster';
import { resolve } from 'node:path';
import { planBlocks } from './block-plan';
import { dalleVersion, modelContentHash } from './input-identity';
import { deriveRunId } from './run-id';
import { openSourceLocation } from './source-location';

export interface RunRequest {
  /** Source locations by role: a folder, an s3:// prefix or one file each. */
  sources: Partial<Record<SourceRole, string>>;
  /** Model folder (model.json + model.onnx). */
  model: string;
  /** Output folder or s3:// prefix. */
  output: string;
  /** Pixels shared by neighbouring windows. Default 256 (DEFAULT_OVERLAP). */
  overlap?: number;
  /** Regular output blocks of this many pixels instead of one per input dalle. */
  blockSize?: number;
  /** Classes kept per pixel where windows overlap. Default 2. */
  topK?: number;
  /** Explicit run id; default derived from the request. */
  runId?: string;
  /**
   * Windows per job along each side (a job covers up to groupSide x groupSide windows).
   * Default: chooseGroupSide(windows), 1 for small runs up to 8 for a département.
   */
  groupSide?: number;
  /**
   * Identify dalles by the sha256 of their bytes instead of their S3 ETag / local size+mtime
   * (`--hash-inputs`, FLEET_HASH_INPUTS=1): reads every dalle once, but a re-delivery of
   * identical bytes is then not a change. Default false.
   */
  hashInputs?: boolean;
}

export interface PlannedRun {
  spec: RunSpec;
  plan: WindowPlan;
  manifest: ModelManifest;
  /** Windows per block, for the merge countdown. */
  windowsPerBlock: Map<string, number>;
  geometry: RunGeometry;
}

/**
 * Default overlap: 256 px, with Gaussian window weights, whatever the model's patch: 128 px of
 * context at the blend midline, as IGN's centre crops keep. With FLAIR-INC's 1024 px windows that
 * is (1024/768)^2 = 1.78 inferences per pixel, and bench:seams measured it closer to whole-mosaic
 * inference than IGN's 512 px crops at 4.00, near seams too; with a 512 px model it costs 4.00
 * and still beats them, where 128 px would not. Cheaper: `--overlap 128` on 1024 px windows,
 * 1.31 per pixel, above IGN on average but below it within 32 px of a seam (README "Why 1024 px
 * windows and 256 px of overlap", BENCHMARKS.md "Seams").
 */
export const DEFAULT_OVERLAP = 256;

/** Which sources go together: the model needs R, G, B, NIR and E from exactly one place each. */
export function checkRoles(sources: RunRequest['sources']): void {
  const roles = (Object.keys(sources) as SourceRole[]).filter((r) => sources[r] !== undefined);
  if (sources.stack && (sources.rgb || sources.irc)) throw new Error('give either --stack or --rgb/--irc/--elevation, not both');
  if (!roles.some((r) => PRIMARY_ROLES.includes(r))) throw new Error('a run needs --stack or --rgb');
  if (sources.elevation && (sources.dsm || sources.dtm)) throw new Error('--elevation and --dsm/--dtm exclude each other: give a ready E band or the surfaces to compute it from');
  if (sources.stack && (sources.elevation || sources.dsm || sources.dtm)) throw new Error('--stack already holds E (band 5): drop --elevation/--dsm/--dtm');
  if (Boolean(sources.dsm) !== Boolean(sources.dtm)) throw new Error('--dsm and --dtm go together: E = (DSM - DTM) * 5 needs both');
  if (sources.rgb && (!sources.irc || !(sources.elevation || sources.dsm))) {
    throw new Error('--rgb needs --irc (for NIR) and --elevation, or --dsm with --dtm (for E), as well');
  }
}

/**
 * Turns a request into a run: scans the sources' headers (never pixel data), lays the dalles
 * on one grid, plans windows and blocks. Validation errors name the file and the problem.
 */
export async function planRun(request: RunRequest): Promise<PlannedRun> {
  const roles = Object.keys(request.sources) as SourceRole[];
  checkRoles(request.sources);
  if (/^[a-z0-9]+:\/\//i.test(request.model)) {
    // workers load the model from the path recorded in the run spec
    throw new Error(`--model must be a local folder, mounted at the same path on every worker (got ${request.model})`);
  }
  const modelDir = resolve(request.model);
  const manifest = await loadModelManifest(modelDir);
  const overlap = request.overlap ?? DEFAULT_OVERLAP;
  const topK = request.topK ?? 2;

  const scanned: ScannedSource[] = [];
  const locations: Record<string, string> = {};
  const dalleVersions: InputIdentity['dalles'] = {};
  for (const role of roles) {
    const { store, file } = openSourceLocation(request.sources[role]!);
    locations[role] = store.location;
    const source = await scanSource(store, role, file);
    scanned.push(source);
    dalleVersions[role] = await versionsOf(store, source.files.map((f) => f.key), request.hashInputs ?? false);
  }
  const modelHash = await modelContentHash(modelDir);
  const layout = layOutMosaic(scanned);
  const primary = layout.sources.find((s) => PRIMARY_ROLES.includes(s.role))!;
  const blocks: Block[] = planBlocks(primary.dalles, layout.width, layout.height, request.blockSize);
  const plan = planWindows(layout.width, layout.height, { patch: manifest.patch, overlap });

  // windows in gaps between dalles touch no block and are never inferred
  const inferable = new RunGeometry(plan, blocks, 1).inferableCount;
  if (request.groupSide !== undefined && (!Number.isInteger(request.groupSide) || request.groupSide < 1 || request.groupSide > 64)) {
    throw new Error(`group side must be an integer from 1 to 64, got ${request.groupSide}`);
  }
  const groupSide = request.groupSide ?? chooseGroupSide(inferable);
  const geometry = new RunGeometry(plan, blocks, groupSide);

  const output = request.output.startsWith('s3://') ? request.output : resolve(request.output);
  // the dalles' versions and the model's bytes are the identity: the same unchanged inputs give
  // the same run (enqueueing twice adds nothing), while a night where one dalle was re-delivered
  // or model.onnx was replaced (even under the same name and version) is a new run
  const files = roles.map((role) => [role, Object.entries(dalleVersions[role]!)]);
  const identity = {
    sources: locations, files, model: [modelDir, modelHash], output, overlap, topK, blockSize: request.blockSize ?? null,
    // the blend's weighting is part of the map: a new default makes a new run, never an "unchanged" one
    weighting: DEFAULT_WINDOW_WEIGHTING,
    // only when chosen: the default is a function of the rest, and run ids stay what they were
    ...(request.groupSide !== undefined ? { groupSide: request.groupSide } : {}),
  };
  const spec: RunSpec = {
    runId: request.runId ?? deriveRunId(identity),
    createdAt: new Date().toISOString(),
    mosaic: { width: layout.width, height: layout.height, geoTransform: [...layout.geoTransform], epsg: layout.epsg },
    sources: layout.sources.map((s) => ({ role: s.role, location: locations[s.role]!, dalles: s.dalles })),
    model: {
      location: modelDir,
      name: manifest.name,
      version: manifest.version,
      classes: manifest.classes.map((c) => ({ id: c.id, name: c.name, color: c.color })),
    },
    output,
    patch: manifest.patch,
    overlap,
    topK,
    blocks,
    windowCount: inferable,
    groupSide,
    weighting: DEFAULT_WINDOW_WEIGHTING,
    inputs: { modelHash, dalles: dalleVersions },
  };
  return { spec, plan, manifest, windowsPerBlock: geometry.windowsPerBlock(), geometry };
}

/** Versions looked up in flight: one HEAD/stat each, or a full read with hashing. */
const VERSION_CONCURRENCY = 8;

/** Dalle key -> version, in key order (the run id must not depend on listing order). */
async function versionsOf(store: ObjectStore, keys: readonly string[], hashContent: boolean): Promise<Record<string, string>> {
  const versions: string[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      versions[i] = await dalleVersion(store, keys[i]!, hashContent);
    }
  };
  await Promise.all(Array.from({ length: Math.min(VERSION_CONCURRENCY, keys.length) }, worker));
  return Object.fromEntries(keys.map((k, i) => [k, versions[i]!] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
