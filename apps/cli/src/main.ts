import { RedisFullError } from '@fleet/jobs';
import { CliError } from './cli-error';
import { demoCommand, DEMO_USAGE } from './commands/demo';
import { enqueueCommand, ENQUEUE_USAGE } from './commands/enqueue';
import { runCommand, RUN_USAGE } from './commands/run';
import { prepareCommand, PREPARE_USAGE } from './commands/prepare';
import { retryCommand, RETRY_USAGE } from './commands/retry';
import { runsCommand, RUNS_USAGE } from './commands/runs';
import { mergerCommand, preparerCommand, workerCommand } from './commands/serve';
import { statusCommand } from './commands/status';

const USAGE = `fleet: FLAIR-INC land-cover maps of whole départements on a fleet of workers

${RUN_USAGE}

${ENQUEUE_USAGE}

fleet worker        infer windows from REDIS_URL's queue until SIGTERM (FLEET_PROVIDER, FLEET_BATCH_SIZE, FLEET_THREADS, FLEET_WARMUP)
fleet merger        merge finished blocks and finalise runs until SIGTERM
fleet status <run>  windows done/skipped/failed/pending (per block too) and blocks merged, as JSON
${RETRY_USAGE}
${RUNS_USAGE}

${PREPARE_USAGE}

fleet preparer      convert dalles from REDIS_URL's prepare queue until SIGTERM (FLEET_GDAL_THREADS, FLEET_PREPARE_CONCURRENCY)

${DEMO_USAGE}`;

/** Dispatches a command; returns the exit code. Errors become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest);
      case 'enqueue':
        return await enqueueCommand(rest);
      case 'worker':
        return await workerCommand();
      case 'merger':
        return await mergerCommand();
      case 'prepare':
        return await prepareCommand(rest);
      case 'preparer':
        return await preparerCommand();
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
    return err instanceof CliError || err instanceof RedisFullError ? err.exitCode : 1;
  }
}
