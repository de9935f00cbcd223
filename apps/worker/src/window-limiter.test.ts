import { WindowLimiter } from './window-limiter';

describe('WindowLimiter', () => {
  it('runs at most `limit` tasks at once, in the order given', async () => {
    const limiter = new WindowLimiter(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const release: Array<() => void> = [];
    const tasks = Array.from({ length: 5 }, (_, i) =>
      limiter.run(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
        return i * 10;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limiter.pending).toBe(5);
    while (release.length) {
      release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(tasks)).toEqual([0, 10, 20, 30, 40]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(limiter.pending).toBe(0);
  });

  it('frees the slot when a task throws', async () => {
    const limiter = new WindowLimiter(1);
    await expect(limiter.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
    expect(() => new WindowLimiter(0)).toThrow(/positive integer/);
  });
});
