import { outputKeys } from '@fleet/jobs';
import { CliError } from '../cli-error';
import { RunProgressBar } from '../progress';
import { parseRunArgs } from '../run-args';
import { runPipeline } from '../run-pipeline';
import { unchangedMessage } from '../published-run';
import { printRunSummary } from '../run-summary';
import { RUN_USAGE } from '../usage';

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
  if ('published' in result) {
    process.stdout.write(`${unchangedMessage(result, request.output)}\n`);
    return 0;
  }
  printRunSummary(result.report, request.output, result.logDir, result.enqueue.alreadyDone);
  if (!result.report.complete) {
    throw new CliError(`${result.report.windows.failed} window(s) failed, e.g. ${result.report.windows.failures[0]?.error ?? '?'}; see ${outputKeys.runReport(result.report.runId)}`, 1);
  }
  return 0;
}
