export * from './env';
export * from './start-merger';
export * from './merge-block';
export * from './finalize-run';
export * from './run-report';
export * from './palette';
