import { EventLoopLag } from './event-loop-lag';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // a synchronous stall
  }
}

describe('EventLoopLag', () => {
  it('sees a stall as soon as the loop turns, and forgets it two windows later', async () => {
    const lag = new EventLoopLag(400, 10);
    try {
      await tick(50);
      expect(lag.maxMs()).toBeLessThan(150);
      block(300);
      await tick(0); // the next turn: the drift timer ran before this continuation
      expect(lag.maxMs()).toBeGreaterThanOrEqual(250);
      await tick(1_000); // more than two windows of 400 ms, no stall since
      expect(lag.maxMs()).toBeLessThan(150);
    } finally {
      lag.stop();
    }
  });
});
