import { z } from 'zod';

const geoTransform = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);
const rect = { x: z.number().int().nonnegative(), y: z.number().int().nonnegative(), width: z.number().int().positive(), height: z.number().int().positive() };

/** Run ids appear in object keys and BullMQ job ids (which may not contain ':'). */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'run id: 1-64 letters, digits, _ or -');
export const blockIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'block id: letters, digits, _ . -');

/** One input file placed on the mosaic grid. */
export const dalleSchema = z.object({
  /** Object key in the source store, or an absolute local path. */
  uri: z.string().min(1),
  ...rect,
  bands: z.number().int().positive(),
  noData: z.number().optional(),
  /** 0-based alpha band (RGBA deliveries): 0 there means no data. */
  alphaBand: z.number().int().nonnegative().optional(),
  /** Image index of the file's internal GDAL mask (NewSubfileType=4): 0 there means no data. */
  maskImage: z.number().int().positive().optional(),
  /**
   * DSM/DTM dalles only: where the source's own pixel grid lies on the mosaic grid (image
   * pixels of its top-left corner, and its pixel size in image pixels); the dalle's x/y/width/
   * height are then in that grid's pixels.
   */
  grid: z.object({ x: z.number(), y: z.number(), stepX: z.number().positive(), stepY: z.number().positive() }).optional(),
});
export type Dalle = z.infer<typeof dalleSchema>;

/** dsm/dtm: float surfaces E is computed from (E = clip(round((DSM - DTM) * 5), 0, 255)). */
export const sourceRoles = ['stack', 'rgb', 'irc', 'elevation', 'dsm', 'dtm'] as const;
export type SourceRole = (typeof sourceRoles)[number];

export const sourceSchema = z.object({
  role: z.enum(sourceRoles),
  /** Where the files live: an absolute folder or s3://bucket/prefix. */
  location: z.string().min(1),
  dalles: z.array(dalleSchema).min(1),
});
export type Source = z.infer<typeof sourceSchema>;

export const inputIdentitySchema = z.object({
  modelHash: z.string().regex(/^[0-9a-f]{64}$/, 'model hash: 64 hex digits'),
  dalles: z.record(z.string(), z.record(z.string(), z.string())),
});
export type InputIdentity = z.infer<typeof inputIdentitySchema>;

export const blockSchema = z.object({ id: blockIdSchema, ...rect });

/**
 * A refresh against the last published run (see refresh-windows.ts and the coordinator's
 * refresh-spec.ts). Compact on purpose: a window's fate is derived from `changedPixels` and
 * the geometry by every process (isReinferred), never listed (a département has ~10^6).
 */
export const refreshSchema = z.object({
  previousRunId: runIdSchema,
  /** Mosaic pixels (this run's frame) whose class may differ from the previous run's: a union of rectangles. */
  changedPixels: z.array(z.object(rect)).min(1),
  /** Blocks merged again: the re-inferred windows each waits for, and the previous run's file of it (pixels outside changedPixels are copied from there). */
  remerge: z.array(z.object({ blockId: blockIdSchema, waits: z.number().int().positive(), previousKey: z.string().min(1).optional() })).min(1),
  /** Blocks taken over as they are: recorded merged at once with the previous run's object and figures. */
  carried: z.array(
    z.object({ blockId: blockIdSchema, key: z.string().min(1), bytes: z.number().int().nonnegative(), classPixels: z.record(z.string(), z.number().int().nonnegative()) }),
  ),
  /** Windows feeding a block that are not inferred again (they count as done from the start, not as inferred). */
  carriedWindows: z.number().int().nonnegative(),
});
export type RunRefresh = z.infer<typeof refreshSchema>;

/**
 * Everything a worker or merger needs to know about a run; written once by the coordinator
 * (to Redis and next to the outputs) and read by every process that takes the run's jobs.
 */
export const runSpecSchema = z.object({
  runId: runIdSchema,
  createdAt: z.string(),
  mosaic: z.object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    geoTransform,
    epsg: z.number().int().positive(),
  }),
  sources: z.array(sourceSchema).min(1),
  model: z.object({
    location: z.string().min(1),
    name: z.string(),
    version: z.string(),
    /** The model's enabled classes, so mergers need only the spec (not the ONNX file). */
    classes: z.array(z.object({ id: z.number().int().min(1).max(255), name: z.string(), color: z.string() })).min(1),
  }),
  output: z.string().min(1),
  patch: z.number().int().positive(),
  overlap: z.number().int().nonnegative(),
  /** Classes kept per pixel where windows overlap. */
  topK: z.number().int().min(1).max(8),
  blocks: z.array(blockSchema).min(1),
  /** Windows to infer: those touching at least one block. */
  windowCount: z.number().int().positive(),
  /**
   * A job covers a square of up to groupSide x groupSide windows (the coordinator's choice,
   * see chooseGroupSide). Absent: 1 (one-window jobs).
   */
  groupSide: z.number().int().min(1).max(64).optional(),
  /**
   * How the merger weights overlapping windows (packages/blend window-weights.ts). Absent: a run
   * planned before the Gaussian became the default (issue 13), which keeps the sin^2 ramp so
   * its blocks all blend alike.
   */
  weighting: z.enum(['gaussian', 'sin2-ramp']).optional(),
  /**
   * What the run was computed from, compared by the next night's refresh: the version of every
   * input dalle (role -> dalle uri -> version: S3 ETag, local size-mtimeMs, or sha256 with
   * --hash-inputs) and the sha256 of the model's bytes. Absent in runs planned before it existed.
   */
  inputs: inputIdentitySchema.optional(),
  /**
   * Present when the run refreshes the published run of its output: only the windows meeting
   * `refresh.changedPixels` are inferred (then `windowCount` counts those), the other blocks
   * are carried over. Absent: a full run.
   */
  refresh: refreshSchema.optional(),
});
export type RunSpec = z.infer<typeof runSpecSchema>;

// geometryOf and windowPlanOf live in a file without zod (fleet status loads them without the
// schemas): re-exported here, where every caller found them
export { geometryOf, windowPlanOf } from './spec-geometry';
