export * from './env-fragments';
