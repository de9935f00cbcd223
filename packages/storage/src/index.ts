export * from './object-store';
export { assertValidKey, assertValidPrefix, compareKeys, InvalidKeyError, isValidKey } from './object-key';
export { LocalStore } from './local-store';
export { S3Store, type S3StoreOptions } from './s3-store';
export { isS3Url, parseS3Url, type S3Location } from './s3-url';
export { s3OptionsFromEnv } from './s3-env';
export { openStore } from './open-store';
export { LEASE_KEY, LEASE_RENEW_MS, LEASE_TTL_MS, LeaseHeldError, OutputLease, readLease, type LeaseHolder, type OutputLeaseOptions } from './output-lease';
