import { keyOfFilePath } from './file-route';

describe('keyOfFilePath', () => {
  it('accepts keys inside the output, percent-decoded', () => {
    expect(keyOfFilePath('blocks/b-0-0.tif')).toEqual({ key: 'blocks/b-0-0.tif' });
    expect(keyOfFilePath('runs/r1/a%20b.json')).toEqual({ key: 'runs/r1/a b.json' });
  });
  it('refuses escapes with 400 and the private folder with 404', () => {
    for (const path of ['../etc/passwd', 'blocks/../../x', '%2e%2e/x', '/etc/passwd', '%2Fetc%2Fpasswd', 'a//b', 'bad%zz', 'a%00b', 'a\\..\\b']) {
      expect(keyOfFilePath(path)).toMatchObject({ status: 400 });
    }
    expect(keyOfFilePath('_fleet/lease.json')).toMatchObject({ status: 404 });
  });
});
