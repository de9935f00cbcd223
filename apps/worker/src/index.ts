export * from './env';
export * from './start-worker';
export * from './group-processor';
export * from './window-steps';
export * from './window-limiter';
export * from './run-context';
export * from './pad-to-patch';
export * from './worker-start-error';
