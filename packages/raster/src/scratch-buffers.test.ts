import { ScratchBuffers } from './scratch-buffers';

describe('ScratchBuffers', () => {
  it('hands out distinct buffers while they are taken, and the same memory again once given back', () => {
    const pool = new ScratchBuffers(4, 1 << 20);
    const a = pool.take(1000);
    const b = pool.take(1000);
    expect(a.length).toBe(1000);
    expect(a.buffer).not.toBe(b.buffer);
    pool.give(a);
    const c = pool.take(70000); // larger than a's 64 KiB allocation: a new one
    expect(c.buffer).not.toBe(a.buffer);
    const d = pool.take(65536);
    expect(d.buffer).toBe(a.buffer);
    expect(d.byteOffset).toBe(0);
  });

  it('keeps at most `keep` buffers, and none larger than `maxBytes`', () => {
    const pool = new ScratchBuffers(2, 128 * 1024);
    const big = pool.take(200 * 1024);
    pool.give(big);
    expect(pool.take(200 * 1024).buffer).not.toBe(big.buffer);
    const taken = [pool.take(10), pool.take(10), pool.take(10)];
    taken.forEach((t) => pool.give(t));
    const again = [pool.take(10), pool.take(10), pool.take(10)];
    // the first given back was dropped: only two of the three come back
    expect(again.filter((t) => taken.some((x) => x.buffer === t.buffer))).toHaveLength(2);
  });
});
