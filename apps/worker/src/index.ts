export * from './env';
export * from './start-worker';
export * from './window-processor';
export * from './pad-to-patch';
