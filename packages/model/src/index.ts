export * from './model-manifest';
export * from './flair-inc';
export * from './onnx-graph-builder';
export * from './normalisation';
export * from './inference-engine';
export * from './whole-image-inference';
export * from './class-argmax';
export * from './wrap-model';
export type { ExecutionProvider } from './inference-thread-protocol';
