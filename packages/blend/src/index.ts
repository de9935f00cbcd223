export * from './window-weights';
export * from './blend-accumulator';
