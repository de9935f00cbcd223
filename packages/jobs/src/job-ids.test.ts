import { jobIds } from './job-catalogue';

describe('jobIds.dalle', () => {
  const dalle = { source: 's3://ortho/bdortho', sourceKey: '92/a:b.jp2', sourceVersion: 'etag1-100', output: '/data/cog', outputKey: '92/a:b.tif' };

  it('is the same for the same dalle version and destination, and a valid BullMQ id', () => {
    expect(jobIds.dalle({ ...dalle })).toBe(jobIds.dalle(dalle));
    expect(jobIds.dalle(dalle)).toMatch(/^prep\.[0-9a-f]{32}$/);
  });

  it('changes with the source version or the destination', () => {
    expect(jobIds.dalle({ ...dalle, sourceVersion: 'etag2-100' })).not.toBe(jobIds.dalle(dalle));
    expect(jobIds.dalle({ ...dalle, output: '/data/other' })).not.toBe(jobIds.dalle(dalle));
  });
});
