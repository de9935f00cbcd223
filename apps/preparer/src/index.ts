export * from './env';
export * from './gdal-translate';
export * from './dalle-listing';
export * from './prepared-record';
export * from './prepare-dalle';
export * from './enqueue-prepare';
export * from './start-preparer';
