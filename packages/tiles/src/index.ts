export * from './mask-tile';
export * from './mask-tile-codec';
export * from './logits-to-mask';
