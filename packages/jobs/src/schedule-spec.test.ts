import { cronProblems, nextFiring, scheduleFiringSchema, scheduleNameSchema } from './schedule-spec';

describe('cronProblems', () => {
  it('accepts 5-field and 6-field (seconds first) expressions, with or without a zone', () => {
    expect(cronProblems('30 1 * * *')).toEqual([]);
    expect(cronProblems('30 1 * * *', 'Europe/Paris')).toEqual([]);
    expect(cronProblems('*/1 * * * * *')).toEqual([]);
    expect(cronProblems('0 30 1 * * 1-5', 'UTC')).toEqual([]);
  });

  it('refuses a short expression cron-parser would complete silently', () => {
    expect(cronProblems('30 1 *')).toEqual(['--cron "30 1 *": 3 field(s); give 5 (minute hour day-of-month month day-of-week, e.g. "30 1 * * *") or 6 (seconds first)']);
    expect(cronProblems('')[0]).toMatch(/0 field\(s\)/);
    expect(cronProblems('* * * * * * *')[0]).toMatch(/7 field\(s\)/);
  });

  it('names an out-of-range field and an unknown word with the parser\'s reason', () => {
    expect(cronProblems('61 1 * * *')).toEqual(['--cron "61 1 * * *": Constraint error, got value 61 expected range 0-59']);
    expect(cronProblems('30 1 * * monday')[0]).toMatch(/^--cron "30 1 \* \* monday": /);
  });

  it('refuses an unknown time zone by name', () => {
    expect(cronProblems('30 1 * * *', 'Europe/Pariss')).toEqual(['--tz "Europe/Pariss": unknown time zone; give an IANA name such as Europe/Paris or UTC']);
  });
});

describe('nextFiring', () => {
  it('follows the zone: 01:30 in Paris is 00:30 UTC in winter, 23:30 UTC the day before in summer', () => {
    expect(new Date(nextFiring('30 1 * * *', 'Europe/Paris', Date.parse('2026-01-10T12:00:00Z'))).toISOString()).toBe('2026-01-11T00:30:00.000Z');
    expect(new Date(nextFiring('30 1 * * *', 'Europe/Paris', Date.parse('2026-07-10T12:00:00Z'))).toISOString()).toBe('2026-07-10T23:30:00.000Z');
    expect(new Date(nextFiring('30 1 * * *', undefined, Date.parse('2026-07-10T12:00:00Z'))).toISOString()).toBe('2026-07-11T01:30:00.000Z');
  });
});

describe('schedule payloads', () => {
  it('names: départements and labels, no ":" or spaces', () => {
    for (const ok of ['92', '2A', 'd092-nightly']) expect(scheduleNameSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['', '9:2', 'a b', 'x'.repeat(65)]) expect(scheduleNameSchema.safeParse(bad).success).toBe(false);
  });

  it('a firing carries the request, fields the schema does not know included', () => {
    const firing = { schedule: '92', request: { sources: { stack: '/data/92' }, model: '/models/m', output: 's3://maps/92', overlap: 128, future: true } };
    expect(scheduleFiringSchema.parse(firing)).toEqual(firing);
    expect(scheduleFiringSchema.safeParse({ schedule: '92', request: { sources: { nir: '/x' }, model: 'm', output: 'o' } }).success).toBe(false);
    expect(scheduleFiringSchema.safeParse({ schedule: '92', request: { sources: {}, model: 'm', output: 'o', overlap: -1 } }).success).toBe(false);
  });
});
