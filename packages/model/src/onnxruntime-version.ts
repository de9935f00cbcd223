import { createRequire } from 'node:module';

/** The onnxruntime-node version in use (a TensorRT engine cache is valid for one version only). */
export function onnxruntimeVersion(): string {
  const require = createRequire(__filename);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}
