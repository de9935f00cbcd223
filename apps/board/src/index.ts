export * from './board-auth';
export * from './board-handler';
export * from './start-board';
export * from './env';
