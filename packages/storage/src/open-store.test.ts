import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { LocalStore } from './local-store';
import { openStore } from './open-store';
import { S3Store } from './s3-store';

describe('openStore', () => {
  it('opens s3:// URLs as S3Store', async () => {
    const store = openStore('s3://bucket/runs/', { endpoint: 'http://127.0.0.1:1' });
    try {
      expect(store).toBeInstanceOf(S3Store);
      expect(store.location).toBe('s3://bucket/runs');
      expect(store.localPath('a')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('opens paths and file:// URLs as LocalStore at an absolute path', () => {
    const relative = openStore('data/runs');
    expect(relative).toBeInstanceOf(LocalStore);
    expect(relative.location).toBe(join(process.cwd(), 'data/runs'));
    expect(openStore('/srv/fleet/').location).toBe('/srv/fleet');
    expect(openStore(pathToFileURL('/srv/fleet data').href).location).toBe('/srv/fleet data');
    expect(openStore('/srv/fleet').localPath('a/b')).toBe('/srv/fleet/a/b');
  });

  it('refuses other URL schemes and empty locations instead of making a folder of them', () => {
    expect(() => openStore('gs://bucket/x')).toThrow(
      'unsupported store location "gs://bucket/x": use s3://bucket/prefix or a folder path',
    );
    expect(() => openStore('  ')).toThrow('store location is empty');
    expect(() => openStore('s3://Bad_Bucket')).toThrow('invalid bucket name "Bad_Bucket"');
  });
});
