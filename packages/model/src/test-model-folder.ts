import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelManifestInput } from './model-manifest';
import { OnnxGraphBuilder } from './onnx-graph-builder';

/** Test support: model folders in a fresh temp directory, built from real ONNX graphs. */

export const FLAIR_MEAN = [105.08, 110.87, 101.82, 106.38, 53.26];
export const FLAIR_STD = [52.17, 45.38, 44.0, 39.69, 79.3];

/** A 5-band manifest with FLAIR normalisation and `classes` logit i -> id i + 1. */
export function testManifest(overrides: Partial<ModelManifestInput> = {}): ModelManifestInput {
  return {
    name: 'test',
    version: '0',
    bands: ['R', 'G', 'B', 'NIR', 'E'],
    mean: FLAIR_MEAN,
    std: FLAIR_STD,
    patch: 32,
    classes: [0, 1, 2, 3, 4].map((logit) => ({ logit, id: logit + 1, name: `c${logit}`, color: '#102030' })),
    ...overrides,
  };
}

const created: string[] = [];

/** Writes `model.json` (as given, valid or not) and `model.onnx` (unless undefined) in a new temp folder. */
export async function writeModelFolder(onnx: Uint8Array | undefined, manifest: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-model-'));
  created.push(dir);
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
  if (onnx) await writeFile(join(dir, 'model.onnx'), onnx);
  return dir;
}

/** Removes every folder `writeModelFolder` made; call from afterAll. */
export async function removeModelFolders(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Deterministic values in [-1, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** Conv model `channels -> logits` with seeded weights; kernel 3 unless told. */
export function randomConvModel(o: { channels: number; logits: number; kernel?: number; seed?: number; batch?: number }): Uint8Array {
  const k = o.kernel ?? 3;
  const rnd = lcg(o.seed ?? 7);
  const g = new OnnxGraphBuilder({ channels: o.channels, ...(o.batch === undefined ? {} : { batch: o.batch }) });
  const weights = Float32Array.from({ length: o.logits * o.channels * k * k }, rnd);
  const bias = Float32Array.from({ length: o.logits }, rnd);
  g.output(g.conv(g.input, { outChannels: o.logits, kernel: k, weights, bias }));
  return g.build();
}

/** Random raw patch `[bands][size][size]`. */
export function randomPatch(bands: number, size: number, seed: number): Uint8Array {
  const rnd = lcg(seed);
  return Uint8Array.from({ length: bands * size * size }, () => Math.floor((rnd() + 1) * 128) & 255);
}
