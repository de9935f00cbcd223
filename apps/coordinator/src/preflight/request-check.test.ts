import { requestProblems } from './request-check';

describe('requestProblems (pure: nothing is created or opened)', () => {
  const ok = { output: '/maps/92', model: '/models/flair-inc' };

  it('accepts a plain request, a valid run id and an s3 output', () => {
    expect(requestProblems(ok)).toEqual([]);
    expect(requestProblems({ ...ok, runId: 'night_2024-11' })).toEqual([]);
    expect(requestProblems({ ...ok, output: 's3://maps/92-2024/' })).toEqual([]);
    // a local path may hold ".." (it is resolved against the working directory)
    expect(requestProblems({ ...ok, output: '../maps' })).toEqual([]);
  });

  it('refuses a run id that would name folders and keys outside the run', () => {
    expect(requestProblems({ ...ok, runId: '../../escape1' })).toEqual(['--run-id "../../escape1" is not a valid run id: 1-64 letters, digits, _ or -']);
    expect(requestProblems({ ...ok, runId: 'a:b' })).toHaveLength(1);
    expect(requestProblems({ ...ok, runId: 'x'.repeat(65) })).toHaveLength(1);
    expect(requestProblems({ ...ok, runId: '' })).toHaveLength(1);
  });

  it('refuses s3 output prefixes with "..", "." or empty segments, and other schemes', () => {
    expect(requestProblems({ ...ok, output: 's3://maps/a/../b' })).toEqual([
      '--out s3://maps/a/../b: invalid prefix: has a ".." segment; use s3://bucket/prefix with plain path segments',
    ]);
    expect(requestProblems({ ...ok, output: 's3://maps/a/./b' })[0]).toMatch(/has a "\." segment/);
    expect(requestProblems({ ...ok, output: 's3://maps/a//b' })[0]).toMatch(/empty segment/);
    expect(requestProblems({ ...ok, output: 's3://Bad_Bucket/x' })[0]).toMatch(/^--out s3:\/\/Bad_Bucket\/x: invalid bucket name/);
    expect(requestProblems({ ...ok, output: 'gs://maps/x' })).toEqual(['--out gs://maps/x: unsupported location: use a folder or s3://bucket/prefix']);
    expect(requestProblems({ ...ok, model: 's3://m/flair' })[0]).toMatch(/^--model must be a local folder/);
  });
});
