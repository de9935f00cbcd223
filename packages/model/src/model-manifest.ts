import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Band names a model can ask for, as FLAIR names them (E = height above ground, 20 cm steps). */
export const BAND_NAMES = ['R', 'G', 'B', 'NIR', 'E'] as const;
export type BandName = (typeof BAND_NAMES)[number];

/** File names inside a model folder. */
export const MANIFEST_FILE = 'model.json';
export const ONNX_FILE = 'model.onnx';

const classSchema = z.object({
  /** Index of this class in the model's logit axis. */
  logit: z.number().int().min(0),
  /** Value written to output maps (0 stays nodata). */
  id: z.number().int().min(1).max(255),
  name: z.string().min(1),
  /** Colour for the GeoTIFF colour map. */
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be "#rrggbb"'),
});

/**
 * The contract of a model folder's `model.json`. Only the classes listed here can win the argmax:
 * logits the model was trained with switched off are simply left out.
 */
export const modelManifestSchema = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    bands: z.array(z.enum(BAND_NAMES)).min(1),
    mean: z.array(z.number()),
    std: z.array(z.number().positive()),
    /** Square patch side in pixels; a U-Net with 5 poolings needs a multiple of 32. Default 512. */
    patch: z.number().int().positive().multipleOf(32).default(512),
    classes: z.array(classSchema).min(1),
    /** Input tensor name; default: the graph's first input. */
    input: z.string().min(1).optional(),
    /** Output tensor name; default: the graph's first output. */
    output: z.string().min(1).optional(),
  })
  .superRefine((m, ctx) => {
    if (new Set(m.bands).size !== m.bands.length) {
      ctx.addIssue({ code: 'custom', path: ['bands'], message: `bands must be unique, got ${m.bands.join(',')}` });
    }
    for (const key of ['mean', 'std'] as const) {
      if (m[key].length !== m.bands.length) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `must have one value per band (${m.bands.length}), got ${m[key].length}`,
        });
      }
    }
    for (const key of ['logit', 'id'] as const) {
      const seen = new Set<number>();
      m.classes.forEach((c, i) => {
        if (seen.has(c[key])) {
          ctx.addIssue({ code: 'custom', path: ['classes', i, key], message: `duplicate ${key} ${c[key]}` });
        }
        seen.add(c[key]);
      });
    }
  });

export type ModelManifest = z.infer<typeof modelManifestSchema>;
/** What a manifest may look like before defaults are applied (e.g. `patch` omitted). */
export type ModelManifestInput = z.input<typeof modelManifestSchema>;

/** Turns zod issues into one message per field, prefixed with the file, so a bad model folder says where. */
function formatIssues(file: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${file}: ${field}: ${issue.message}`;
  });
  return lines.join('\n');
}

/** Validates an in-memory manifest; `source` names it in errors. */
export function parseModelManifest(value: unknown, source = MANIFEST_FILE): ModelManifest {
  const result = modelManifestSchema.safeParse(value);
  if (!result.success) throw new Error(formatIssues(source, result.error));
  return result.data;
}

/** Reads and validates `dir/model.json` and checks that `dir/model.onnx` exists. */
export async function loadModelManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  const manifest = parseModelManifest(json, file);
  const onnxFile = join(dir, ONNX_FILE);
  if (!existsSync(onnxFile)) throw new Error(`${onnxFile}: missing (the model folder needs ${ONNX_FILE} next to ${MANIFEST_FILE})`);
  return manifest;
}

/** 256 RGB entries indexed by class id, for GeoTIFF colour maps; ids not in the manifest (0 = nodata) are black. */
export function colorTable(manifest: Pick<ModelManifest, 'classes'>): Array<[number, number, number]> {
  const table = Array.from({ length: 256 }, (): [number, number, number] => [0, 0, 0]);
  for (const c of manifest.classes) {
    const hex = c.color.slice(1);
    table[c.id] = [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
  }
  return table;
}

/** Highest logit index a manifest class uses, plus one: the fewest logits the model must output. */
export function requiredLogits(manifest: Pick<ModelManifest, 'classes'>): number {
  return Math.max(...manifest.classes.map((c) => c.logit)) + 1;
}
