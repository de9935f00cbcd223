export * from './queue-names';
export * from './run-spec';
export * from './job-catalogue';
export * from './run-keys';
export * from './run-state';
export * from './queues';
export * from './output-keys';
export * from './permanent-error';
