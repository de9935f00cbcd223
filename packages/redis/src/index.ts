export * from './find-executable';
export * from './ensure-redis-server';
export * from './private-redis';
export * from './connection';
