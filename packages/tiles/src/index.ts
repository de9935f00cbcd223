export * from './mask-tile';
export * from './mask-tile-codec';
export * from './patch-outputs-to-mask';
export * from './tile-body-from-outputs';
export * from './plane-pool';
