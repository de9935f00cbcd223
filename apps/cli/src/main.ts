import { PreflightError } from '@fleet/coordinator';
import { RedisFullError } from '@fleet/jobs';
import { scrubRedisError } from '@fleet/redis';
import { CliError } from './cli-error';
import { demoCommand, DEMO_USAGE } from './commands/demo';
import { enqueueCommand, ENQUEUE_USAGE } from './commands/enqueue';
import { runCommand, RUN_USAGE } from './commands/run';
import { prepareCommand, PREPARE_USAGE } from './commands/prepare';
import { retryCommand, RETRY_USAGE } from './commands/retry';
import { runsCommand, RUNS_USAGE } from './commands/runs';
import { MERGER_USAGE, mergerCommand, PREPARER_USAGE, preparerCommand, WORKER_USAGE, workerCommand } from './commands/serve';
import { STATUS_USAGE, statusCommand } from './commands/status';

const USAGE = `fleet: FLAIR-INC land-cover maps of whole départements on a fleet of workers

${RUN_USAGE}

${ENQUEUE_USAGE}

${WORKER_USAGE}
${MERGER_USAGE}
${STATUS_USAGE}
${RETRY_USAGE}
${RUNS_USAGE}

${PREPARE_USAGE}

${PREPARER_USAGE}

${DEMO_USAGE}`;

/** Each command's own usage, answered to --help/-h before anything else runs (no Redis, no worker). */
const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  enqueue: ENQUEUE_USAGE,
  worker: WORKER_USAGE,
  merger: MERGER_USAGE,
  status: STATUS_USAGE,
  retry: RETRY_USAGE,
  runs: RUNS_USAGE,
  prepare: PREPARE_USAGE,
  preparer: PREPARER_USAGE,
  demo: DEMO_USAGE,
};

/** Dispatches a command; returns the exit code. Errors become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  guardCrashes(command);
  const usage = command === undefined ? undefined : COMMAND_USAGE[command];
  if (usage !== undefined && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest);
      case 'enqueue':
        return await enqueueCommand(rest);
      case 'worker':
        return await workerCommand(rest);
      case 'merger':
        return await mergerCommand(rest);
      case 'prepare':
        return await prepareCommand(rest);
      case 'preparer':
        return await preparerCommand(rest);
      case 'status':
        return await statusCommand(rest);
      case 'retry':
        return await retryCommand(rest);
      case 'runs':
        return await runsCommand(rest);
      case 'demo':
        return await demoCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new CliError(`unknown command "${command}" (fleet help lists them)`);
    }
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`fleet ${command}: ${message}\n`);
    return err instanceof CliError || err instanceof PreflightError || err instanceof RedisFullError ? err.exitCode : 1;
  }
}

/**
 * An error nobody handles (an 'error' event without a listener deep in a library) would make
 * node print the whole object, and ioredis's reply errors carry the failed command's arguments
 * (AUTH's are the password): print one scrubbed line instead and exit 1, as node would.
 */
let guarded = false;
function guardCrashes(command: string | undefined): void {
  if (guarded) return;
  guarded = true;
  const onCrash = (err: unknown): void => {
    scrubRedisError(err);
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`fleet ${command ?? ''}: ${message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
}
