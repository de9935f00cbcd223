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

  it('keeps a finished run 7 days in Redis unless FLEET_RUN_TTL_DAYS says otherwise, and names it when bad', () => {
    expect(parseMergerEnv({}).FLEET_RUN_TTL_DAYS).toBe(7);
    expect(parseMergerEnv({ FLEET_RUN_TTL_DAYS: '0.5' }).FLEET_RUN_TTL_DAYS).toBe(0.5);
    expect(() => parseMergerEnv({ FLEET_RUN_TTL_DAYS: 'week' })).toThrow(/FLEET_RUN_TTL_DAYS/);
    expect(() => parseMergerEnv({ FLEET_RUN_TTL_DAYS: '-1' })).toThrow(/FLEET_RUN_TTL_DAYS/);
  });
});
