import { planRetention } from './run-retention';

describe('planRetention', () => {
  const listed = new Map([
    ['r1', ['runs/r1/run.json', 'runs/r1/blocks/a.tif', 'runs/r1/blocks/b.tif']],
    ['r2', ['runs/r2/run.json', 'runs/r2/blocks/b.tif']],
  ]);

  it('keeps the last N published runs whole and deletes the rest', () => {
    const plan = planRetention({ history: ['r3', 'r2', 'r1'], keep: 1, referenced: new Set(['runs/r3/blocks/a.tif']), listed });
    expect(plan.delete.sort()).toEqual(['runs/r1/blocks/a.tif', 'runs/r1/blocks/b.tif', 'runs/r1/run.json', 'runs/r2/blocks/b.tif', 'runs/r2/run.json']);
    expect(plan.history).toEqual(['r3']);
  });

  it('keeps an older run\'s block a kept manifest references (carried), and that run in the history', () => {
    const plan = planRetention({ history: ['r3', 'r2', 'r1'], keep: 1, referenced: new Set(['runs/r1/blocks/a.tif', 'runs/r3/blocks/b.tif']), listed });
    expect(plan.delete).not.toContain('runs/r1/blocks/a.tif');
    expect(plan.delete).toContain('runs/r1/blocks/b.tif');
    expect(plan.history).toEqual(['r3', 'r1']);
  });

  it('deletes nothing while the history is within N; refuses N < 1', () => {
    expect(planRetention({ history: ['r2', 'r1'], keep: 2, referenced: new Set(), listed })).toEqual({ delete: [], history: ['r2', 'r1'] });
    expect(() => planRetention({ history: ['r1'], keep: 0, referenced: new Set(), listed })).toThrow('FLEET_KEEP_RUNS');
  });
});
