import type { RunRequest } from '@fleet/coordinator';
import { cronProblems, scheduleNameSchema } from '@fleet/jobs';
import { isAbsolute, resolve } from 'node:path';
import { CliError } from './cli-error';
import { parseRunArgs } from './run-args';

export interface ScheduleAdd {
  name: string;
  cron: string;
  tz?: string;
  request: RunRequest;
}

/** `--name value` or `--name=value`: taken out of argv (the rest is `fleet enqueue`'s options). */
function takeOption(argv: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) {
      const next = argv[i + 1];
      if (next === undefined) throw new CliError(`--${name} needs a value`);
      if (value !== undefined) throw new CliError(`--${name} given twice`);
      value = next;
      argv.splice(i, 2);
      i--;
    } else if (arg.startsWith(`--${name}=`)) {
      if (value !== undefined) throw new CliError(`--${name} given twice`);
      value = arg.slice(name.length + 3);
      argv.splice(i, 1);
      i--;
    }
  }
  return value;
}

/**
 * A local path as the scheduler will read it: the scheduler runs elsewhere, later, in another
 * folder, so a relative path is made absolute here, where the user meant it.
 */
function absolute(location: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) || isAbsolute(location) ? location : resolve(location);
}

/**
 * `fleet schedule add <name> --cron "<expr>" [--tz <zone>] <fleet enqueue's options>`, checked
 * without touching anything: the name, the cron expression and zone (as BullMQ will parse
 * them), the request as `fleet enqueue` parses it and the preflight's checks of its names.
 * What needs the inputs, the output or the model (they may not exist yet) is checked by
 * every firing, whose failure is notified. Throws a CliError (exit 2), one line.
 */
export function parseScheduleAdd(argv: readonly string[], requestProblems: (r: RunRequest) => string[]): ScheduleAdd {
  const rest = [...argv];
  const name = rest[0] !== undefined && !rest[0].startsWith('-') ? rest.shift()! : undefined;
  if (name === undefined) throw new CliError('usage: fleet schedule add <name> --cron "<expr>" [--tz <zone>] <fleet enqueue options>');
  const named = scheduleNameSchema.safeParse(name);
  if (!named.success) throw new CliError(`schedule name ${JSON.stringify(name)} is not valid: 1-64 letters, digits, _ or - (a département such as 92 or 2A)`);
  const cron = takeOption(rest, 'cron');
  const tz = takeOption(rest, 'tz');
  if (cron === undefined) throw new CliError('--cron "<expr>" is required, e.g. --cron "30 1 * * *" (every night at 01:30)');
  const cronProblem = cronProblems(cron, tz)[0];
  if (cronProblem) throw new CliError(cronProblem);
  if (rest.some((a) => a === '--run-id' || a.startsWith('--run-id='))) {
    throw new CliError('--run-id does not go with a schedule: each firing\'s run id derives from the inputs as they are that night');
  }
  if (rest.some((a) => a === '--workers' || a.startsWith('--workers='))) {
    throw new CliError('--workers does not go with a schedule: runs are done by the fleet\'s `fleet worker` processes');
  }
  const { request } = parseRunArgs(rest);
  const problem = requestProblems(request)[0];
  if (problem) throw new CliError(problem);
  const sources: RunRequest['sources'] = {};
  for (const [role, location] of Object.entries(request.sources)) if (location) sources[role as keyof RunRequest['sources']] = absolute(location);
  return { name, cron, ...(tz === undefined ? {} : { tz }), request: { ...request, sources, model: absolute(request.model), output: absolute(request.output) } };
}
