import { TileBodyPool } from './tile-body-pool';

describe('TileBodyPool', () => {
  it('hands back a returned buffer to the next window instead of allocating', () => {
    const pool = new TileBodyPool(2);
    const first = pool.take(100);
    expect(first.length).toBe(100);
    pool.give(first);
    expect(pool.take(80)).toBe(first);
    expect(pool.size).toBe(0);
  });

  it('drops spares too short for the body asked for', () => {
    const pool = new TileBodyPool(4);
    const small = pool.take(50);
    pool.give(small);
    const big = pool.take(60);
    expect(big).not.toBe(small);
    expect(big.length).toBe(60);
    expect(pool.size).toBe(0);
  });

  it('keeps at most `keep` spares', () => {
    const pool = new TileBodyPool(2);
    const taken = [pool.take(10), pool.take(10), pool.take(10)];
    taken.forEach((b) => pool.give(b));
    expect(pool.size).toBe(2);
    const again = [pool.take(10), pool.take(10), pool.take(10)];
    expect(again[0]).toBe(taken[1]);
    expect(again[1]).toBe(taken[0]);
    expect(taken).not.toContain(again[2]);
  });
});
