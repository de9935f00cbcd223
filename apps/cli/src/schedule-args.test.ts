import { requestProblems } from '@fleet/coordinator';
import { resolve } from 'node:path';
import { parseScheduleAdd } from './schedule-args';

const parse = (argv: string[]) => parseScheduleAdd(argv, requestProblems);
const request = ['--stack', 's3://ortho/92', '--model', '/models/flair-inc', '--out', 's3://maps/92'];

describe('fleet schedule add arguments', () => {
  it('takes the name, the cron expression, the zone and fleet enqueue\'s options', () => {
    expect(parse(['92', '--cron', '30 1 * * *', '--tz=Europe/Paris', ...request, '--overlap', '256'])).toEqual({
      name: '92',
      cron: '30 1 * * *',
      tz: 'Europe/Paris',
      request: { sources: { stack: 's3://ortho/92' }, model: '/models/flair-inc', output: 's3://maps/92', overlap: 256 },
    });
  });

  it('makes local paths absolute: the scheduler runs elsewhere, in another folder', () => {
    const add = parse(['d', '--cron=0 2 * * *', '--rgb', 'in/rgb', '--irc', '/abs/irc', '--elevation', 's3://b/e', '--model', 'models/m', '--out', 'map']);
    expect(add.tz).toBeUndefined();
    expect(add.request).toEqual({ sources: { rgb: resolve('in/rgb'), irc: '/abs/irc', elevation: 's3://b/e' }, model: resolve('models/m'), output: resolve('map') });
  });

  it.each([
    [[], 'usage: fleet schedule add <name> --cron "<expr>" [--tz <zone>] <fleet enqueue options>'],
    [['--cron', '* * * * *', ...request], 'usage: fleet schedule add <name> --cron "<expr>" [--tz <zone>] <fleet enqueue options>'],
    [['9:2', '--cron', '* * * * *', ...request], 'schedule name "9:2" is not valid: 1-64 letters, digits, _ or - (a département such as 92 or 2A)'],
    [['92', ...request], '--cron "<expr>" is required, e.g. --cron "30 1 * * *" (every night at 01:30)'],
    [['92', '--cron', ...request], '--cron "--stack": 1 field(s); give 5 (minute hour day-of-month month day-of-week, e.g. "30 1 * * *") or 6 (seconds first)'],
    [['92', '--cron', '30 1 * * *', '--cron', '0 2 * * *', ...request], '--cron given twice'],
    [['92', '--cron', '30 25 * * *', ...request], '--cron "30 25 * * *": Constraint error, got value 25 expected range 0-23'],
    [['92', '--cron', '30 1 * * *', '--tz', 'Paris', ...request], '--tz "Paris": unknown time zone; give an IANA name such as Europe/Paris or UTC'],
    [['92', '--cron', '30 1 * * *', ...request, '--run-id', 'r1'], "--run-id does not go with a schedule: each firing's run id derives from the inputs as they are that night"],
    [['92', '--cron', '30 1 * * *', ...request, '--workers', '2'], "--workers does not go with a schedule: runs are done by the fleet's `fleet worker` processes"],
    [['92', '--cron', '30 1 * * *', '--model', 'm', '--out', 'o'], 'give --stack <file|dir|s3://...>, or --rgb, --irc and --elevation (or --dsm and --dtm)'],
    [['92', '--cron', '30 1 * * *', '--stack', 's', '--model', 'm', '--out', 'o', '--overlap', '-5'], '--overlap must be an integer >= 0, got "-5"'],
    [['92', '--cron', '30 1 * * *', '--stack', 's', '--model', 'm', '--out', 's3://maps/../x'], expect.stringMatching(/^--out s3:\/\/maps\/\.\.\/x: invalid prefix/)],
    [['92', '--cron', '30 1 * * *', '--stack', 's', '--model', 's3://models/m', '--out', 'o'], '--model must be a local folder, mounted at the same path on every worker (got s3://models/m)'],
    [['92', '--cron', '30 1 * * *', ...request, '--bogus'], expect.stringMatching(/Unknown option '--bogus'/)],
  ])('%j: one clear error, exit 2', (argv, message) => {
    let thrown: unknown;
    try {
      parse(argv as string[]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ name: 'CliError', exitCode: 2, message });
  });
});
