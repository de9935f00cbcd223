import { CliError } from './cli-error';
import {
  BOARD_USAGE,
  CONSOLE_USAGE,
  DEMO_USAGE,
  ENQUEUE_USAGE,
  MERGER_USAGE,
  PREPARE_USAGE,
  PREPARER_USAGE,
  RETRY_USAGE,
  RUN_USAGE,
  RUNS_USAGE,
  SCHEDULE_USAGE,
  SCHEDULER_USAGE,
  STATUS_USAGE,
  WORKER_USAGE,
} from './usage';

// Only the usage texts and CliError load with this module: each command's module (and with it
// onnxruntime, BullMQ, the AWS SDK ...) is imported inside its case, so `fleet --help` and
// `fleet status` load only what they use (BENCHMARKS.md, "CLI start").

const USAGE = `fleet: FLAIR-INC land-cover maps of whole départements on a fleet of workers

${RUN_USAGE}

${ENQUEUE_USAGE}

${WORKER_USAGE}
${MERGER_USAGE}
${SCHEDULER_USAGE}
${STATUS_USAGE}
${RETRY_USAGE}
${RUNS_USAGE}
${BOARD_USAGE}

${SCHEDULE_USAGE}

${PREPARE_USAGE}

${PREPARER_USAGE}

${CONSOLE_USAGE}

${DEMO_USAGE}`;

/** Each command's own usage, answered to --help/-h before anything else runs (no Redis, no worker). */
const COMMAND_USAGE: Record<string, string> = {
  run: RUN_USAGE,
  enqueue: ENQUEUE_USAGE,
  worker: WORKER_USAGE,
  merger: MERGER_USAGE,
  schedule: SCHEDULE_USAGE,
  scheduler: SCHEDULER_USAGE,
  status: STATUS_USAGE,
  retry: RETRY_USAGE,
  runs: RUNS_USAGE,
  board: BOARD_USAGE,
  prepare: PREPARE_USAGE,
  preparer: PREPARER_USAGE,
  console: CONSOLE_USAGE,
  demo: DEMO_USAGE,
};

/** Dispatches a command; returns the exit code. Errors become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const usage = command === undefined ? undefined : COMMAND_USAGE[command];
  if (usage !== undefined && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    if (usage !== undefined) await guardCrashes(command);
    switch (command) {
      case 'run':
        return await (await import('./commands/run.js')).runCommand(rest);
      case 'enqueue':
        return await (await import('./commands/enqueue.js')).enqueueCommand(rest);
      case 'worker':
        return await (await import('./commands/serve.js')).workerCommand(rest);
      case 'merger':
        return await (await import('./commands/serve.js')).mergerCommand(rest);
      case 'scheduler':
        return await (await import('./commands/serve.js')).schedulerCommand(rest);
      case 'schedule':
        return await (await import('./commands/schedule.js')).scheduleCommand(rest);
      case 'prepare':
        return await (await import('./commands/prepare.js')).prepareCommand(rest);
      case 'preparer':
        return await (await import('./commands/serve.js')).preparerCommand(rest);
      case 'status':
        return await (await import('./commands/status.js')).statusCommand(rest);
      case 'retry':
        return await (await import('./commands/retry.js')).retryCommand(rest);
      case 'runs':
        return await (await import('./commands/runs.js')).runsCommand(rest);
      case 'board':
        return await (await import('./commands/board.js')).boardCommand(rest);
      case 'console':
        return await (await import('./commands/console.js')).consoleCommand(rest);
      case 'demo':
        return await (await import('./commands/demo.js')).demoCommand(rest);
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
    return exitCodeOf(err);
  }
}

/**
 * The errors that carry their exit code (CliError, PreflightError, RedisFullError,
 * WorkerStartError: 2 for usage, input and configuration, 1 for what may pass on retry;
 * `fleet run` stopped by a signal: 130/143); any
 * other error is 1. Read from the property rather than by class, so the classes' modules are
 * not loaded before a command needs them.
 */
function exitCodeOf(err: unknown): number {
  const code = err instanceof Error && 'exitCode' in err ? err.exitCode : undefined;
  // 130/143 too: `fleet run` stopped by SIGINT/SIGTERM says so with its exit code
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 256 ? code : 1;
}

/**
 * An error nobody handles (an 'error' event without a listener deep in a library) would make
 * node print the whole object, and ioredis's reply errors carry the failed command's arguments
 * (AUTH's are the password): print one scrubbed line instead and exit 1, as node would.
 * Installed when a command runs (help needs no guard, nor @fleet/redis).
 */
let guarded = false;
async function guardCrashes(command: string | undefined): Promise<void> {
  if (guarded) return;
  guarded = true;
  const { scrubRedisError } = await import('@fleet/redis');
  const onCrash = (err: unknown): void => {
    scrubRedisError(err);
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`fleet ${command ?? ''}: ${message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
}
