export * from './env-fragments';
export * from './redis-env-by-hand';
