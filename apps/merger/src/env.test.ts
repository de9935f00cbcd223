import { parseMergerEnv } from './env';

describe('parseMergerEnv', () => {
  it('deletes mask tiles by default and keeps them with FLEET_KEEP_TILES=1', () => {
    expect(parseMergerEnv({}).FLEET_KEEP_TILES).toBe(false);
    expect(parseMergerEnv({ FLEET_KEEP_TILES: '0' }).FLEET_KEEP_TILES).toBe(false);
    expect(parseMergerEnv({ FLEET_KEEP_TILES: '1' }).FLEET_KEEP_TILES).toBe(true);
  });

  it('names the variable when its value is not 0 or 1', () => {
    expect(() => parseMergerEnv({ FLEET_KEEP_TILES: 'yes' })).toThrow(/FLEET_KEEP_TILES/);
  });
});
