export * from './plan-run';
export * from './enqueue-run';
export * from './run-id';
export * from './input-identity';
export * from './source-location';
export * from './block-plan';
export * from './preflight';
export * from './reconcile-from-storage';
