import { isS3Url, parseS3Url } from './s3-url';

describe('parseS3Url', () => {
  it.each<[string, { bucket: string; prefix: string }]>([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
    ['s3://my.bucket-1/runs', { bucket: 'my.bucket-1', prefix: 'runs/' }],
    ['s3://bucket/runs/2024/', { bucket: 'bucket', prefix: 'runs/2024/' }],
  ])('%s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['/data/runs', 'not an s3:// URL: "/data/runs"'],
    ['s3://', 'invalid bucket name "" in "s3://"'],
    ['s3://Bucket/x', 'invalid bucket name "Bucket" in "s3://Bucket/x"'],
    ['s3://ab', 'invalid bucket name "ab" in "s3://ab"'],
    ['s3://bucket/a/../../x', 'invalid prefix in "s3://bucket/a/../../x": has a ".." segment'],
    ['s3://bucket//x', 'invalid prefix in "s3://bucket//x": is absolute (starts with "/")'],
    ['s3://bucket/a//b', 'invalid prefix in "s3://bucket/a//b": has an empty segment ("//" or a trailing "/")'],
  ])('rejects %s', (url, message) => {
    expect(() => parseS3Url(url)).toThrow(message);
  });

  it('recognises s3:// URLs only', () => {
    expect(isS3Url('s3://b/p')).toBe(true);
    expect(isS3Url('/tmp/s3://x')).toBe(false);
    expect(isS3Url('S3://b')).toBe(false);
  });
});
