import { CliError } from './cli-error';
import { parseRunArgs } from './run-args';

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
