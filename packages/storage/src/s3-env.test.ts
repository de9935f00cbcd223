import { s3OptionsFromEnv } from './s3-env';

describe('s3OptionsFromEnv', () => {
  it('reads endpoint, region and path style', () => {
    expect(
      s3OptionsFromEnv({
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_REGION: 'eu-west-3',
        AWS_REGION: 'us-west-2',
        S3_FORCE_PATH_STYLE: 'TRUE',
        AWS_SECRET_ACCESS_KEY: 'never-copied',
      }),
    ).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'eu-west-3', forcePathStyle: true });
  });

  it('falls back to AWS_REGION and leaves unset or empty variables out', () => {
    expect(s3OptionsFromEnv({ AWS_REGION: 'us-west-2', S3_ENDPOINT: '', S3_FORCE_PATH_STYLE: '0' })).toEqual({
      region: 'us-west-2',
      forcePathStyle: false,
    });
    expect(s3OptionsFromEnv({})).toEqual({});
  });

  it('names the variable when a value is malformed', () => {
    expect(() => s3OptionsFromEnv({ S3_FORCE_PATH_STYLE: 'yes please' })).toThrow(
      'S3_FORCE_PATH_STYLE must be true, false, 1 or 0, got "yes please"',
    );
    expect(() => s3OptionsFromEnv({ S3_ENDPOINT: 'localhost:9000' })).toThrow(
      'S3_ENDPOINT must be an http(s) URL, got "localhost:9000"',
    );
    expect(() => s3OptionsFromEnv({ S3_ENDPOINT: 'not a url' })).toThrow('S3_ENDPOINT is not a URL: "not a url"');
  });

  it('reads retry and timeout settings, and names the variable when one is malformed', () => {
    expect(
      s3OptionsFromEnv({ S3_MAX_ATTEMPTS: '5', S3_RETRY_MODE: 'Adaptive', S3_CONNECTION_TIMEOUT_MS: '2000', S3_SOCKET_TIMEOUT_MS: '3000' }),
    ).toEqual({ maxAttempts: 5, retryMode: 'adaptive', connectionTimeoutMs: 2000, socketTimeoutMs: 3000 });
    expect(() => s3OptionsFromEnv({ S3_MAX_ATTEMPTS: '0' })).toThrow('S3_MAX_ATTEMPTS must be a whole number >= 1, got "0"');
    expect(() => s3OptionsFromEnv({ S3_SOCKET_TIMEOUT_MS: '1.5' })).toThrow('S3_SOCKET_TIMEOUT_MS must be a whole number >= 1, got "1.5"');
    expect(() => s3OptionsFromEnv({ S3_RETRY_MODE: 'legacy' })).toThrow('S3_RETRY_MODE must be standard or adaptive, got "legacy"');
  });
});
