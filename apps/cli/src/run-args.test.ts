import { CliError } from './cli-error';
import { joinNegativeValues, parseRunArgs } from './run-args';

describe('parseRunArgs: input sources', () => {
  const base = ['--model', '/m', '--out', '/o', '--rgb', '/rgb', '--irc', '/irc'];

  it('passes --dsm and --dtm through as sources', () => {
    expect(parseRunArgs([...base, '--dsm', '/dsm', '--dtm', 's3://b/dtm']).request.sources).toEqual({ rgb: '/rgb', irc: '/irc', dsm: '/dsm', dtm: 's3://b/dtm' });
  });

  it('refuses --elevation with --dsm or --dtm as a usage error (exit code 2)', () => {
    for (const extra of [['--dsm', '/dsm'], ['--dtm', '/dtm'], ['--dsm', '/dsm', '--dtm', '/dtm']]) {
      let error: unknown;
      try {
        parseRunArgs([...base, '--elevation', '/e', ...extra]);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CliError);
      expect([(error as CliError).exitCode, (error as CliError).message]).toEqual([
        2,
        '--elevation and --dsm/--dtm exclude each other: give a ready E band or the surfaces to compute it from',
      ]);
    }
  });
});

describe('parseRunArgs: numbers', () => {
  const base = ['--model', '/m', '--out', '/o', '--stack', '/s'];
  const refusal = (args: string[]): [number, string] => {
    try {
      parseRunArgs([...base, ...args]);
    } catch (err) {
      return [(err as CliError).exitCode, (err as CliError).message];
    }
    throw new Error('accepted');
  };

  it('refuses a negative value by name instead of calling the option ambiguous', () => {
    expect(refusal(['--overlap', '-5'])).toEqual([2, '--overlap must be an integer >= 0, got "-5"']);
    expect(refusal(['--overlap=-5'])).toEqual([2, '--overlap must be an integer >= 0, got "-5"']);
    expect(refusal(['--top-k', '-1'])).toEqual([2, '--top-k must be an integer >= 1, got "-1"']);
    expect(refusal(['--workers', '-0.5'])).toEqual([2, '--workers must be an integer >= 1, got "-0.5"']);
    expect(refusal(['--overlap', '1.5'])).toEqual([2, '--overlap must be an integer >= 0, got "1.5"']);
  });

  it('keeps parsing good values and real options after a string option', () => {
    expect(parseRunArgs([...base, '--overlap', '0', '--block-size', '1000']).request).toMatchObject({ overlap: 0, blockSize: 1000 });
    expect(parseRunArgs([...base, '--run-id', 'r1', '-h']).help).toBe(true);
  });
});

describe('joinNegativeValues', () => {
  it('joins only string options followed by a negative number', () => {
    const options = { overlap: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
    expect(joinNegativeValues(['--overlap', '-5', '--help', '-3'], options)).toEqual(['--overlap=-5', '--help', '-3']);
    expect(joinNegativeValues(['--overlap', '-h'], options)).toEqual(['--overlap', '-h']);
  });
});

describe('parseRunArgs: --hash-inputs and FLEET_HASH_INPUTS', () => {
  const base = ['--model', '/m', '--out', '/o', '--stack', '/s'];

  it('hashes inputs with the option or FLEET_HASH_INPUTS=1, not by default', () => {
    expect(parseRunArgs(base, {}).request.hashInputs).toBeUndefined();
    expect(parseRunArgs(base, { FLEET_HASH_INPUTS: '0' }).request.hashInputs).toBeUndefined();
    expect(parseRunArgs([...base, '--hash-inputs'], {}).request.hashInputs).toBe(true);
    expect(parseRunArgs(base, { FLEET_HASH_INPUTS: '1' }).request.hashInputs).toBe(true);
  });

  it('refuses another value naming the variable', () => {
    expect(() => parseRunArgs(base, { FLEET_HASH_INPUTS: 'yes' })).toThrow(new CliError('FLEET_HASH_INPUTS must be 0 or 1, got "yes"'));
  });
});
