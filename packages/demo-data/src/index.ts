export * from './landscape';
export * from './land-cover';
export * from './prng';
export * from './demo-model';
export * from './per-pixel-model';
export * from './band-stack';
