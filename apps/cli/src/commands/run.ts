import { CliError } from '../cli-error';
import { RunProgressBar } from '../progress';
import { parseRunArgs } from '../run-args';
import { runPipeline } from '../run-pipeline';
import { printRunSummary } from '../run-summary';

export const RUN_USAGE = `fleet run --stack <file|dir|s3://...> | --rgb <..> --irc <..> (--elevation <..> | --dsm <..> --dtm <..>)
          --model <dir> --out <dir|s3://...> [--workers N] [--overlap PX]
          [--block-size PX] [--top-k K] [--run-id ID]
  Plans the mosaic, enqueues its windows, runs N workers and the merger, and waits with a
  progress bar. Uses REDIS_URL, or starts a private redis-server when it is unset, its state
  kept with the output (<out>/_fleet/redis) so the same command resumes after Ctrl-C.
  One run per output at a time (a lease in <out>/_fleet/lease.json). Exit codes: 0 done,
  1 failed (windows, a merge, stalled for FLEET_RUN_STALL_S), 2 usage or refused (output
  held by a live run), 130/143 stopped by SIGINT/SIGTERM.`;

export async function runCommand(argv: string[]): Promise<number> {
  const { request, workers, help } = parseRunArgs(argv);
  if (help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  const bar = new RunProgressBar();
  let result;
  try {
    result = await runPipeline(request, { workers, env: process.env, onProgress: (p) => bar.update(p), note: (m) => process.stderr.write(`${m}\n`) });
  } finally {
    bar.stop();
  }
  printRunSummary(result.report, request.output, result.logDir, result.enqueue.alreadyDone);
  if (!result.report.complete) {
    throw new CliError(`${result.report.windows.failed} window(s) failed, e.g. ${result.report.windows.failures[0]?.error ?? '?'}; see run.json`, 1);
  }
  return 0;
}
