import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPerPixelModel, type PerPixelModel } from '../../packages/demo-data/src';

/** Writes the context-free test model as a model folder (model.onnx + model.json). */
export function writePerPixelModel(dir: string, seed: number): PerPixelModel {
  const model = buildPerPixelModel(seed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), model.onnx);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(model.manifest, null, 2));
  return model;
}
