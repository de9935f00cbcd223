export * from './geo-transform';
export * from './window-plan';
export * from './window-coverage';
export * from './blocks';
export * from './block-index';
export { intersectingRange } from './axis-ranges';
export * from './run-geometry';
export * from './refresh-plan';
