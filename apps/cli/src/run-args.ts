import type { RunRequest } from '@fleet/coordinator';
import { parseArgs } from 'node:util';
import { CliError } from './cli-error';

/** Options shared by `fleet run` and `fleet enqueue`. */
export const RUN_OPTIONS = {
  stack: { type: 'string' },
  rgb: { type: 'string' },
  irc: { type: 'string' },
  elevation: { type: 'string' },
  dsm: { type: 'string' },
  dtm: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  overlap: { type: 'string' },
  'block-size': { type: 'string' },
  'top-k': { type: 'string' },
  'run-id': { type: 'string' },
  'hash-inputs': { type: 'boolean' },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * node's parseArgs reads `--overlap -5` as an option missing its value followed by an option
 * `-5` ("argument is ambiguous"): a string option followed by something that looks like a
 * negative number gets it as its value (`--overlap=-5`), so the range check below names it.
 */
export function joinNegativeValues(argv: readonly string[], options: Readonly<Record<string, { readonly type: string; readonly short?: string }>>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

/**
 * FLEET_HASH_INPUTS=1 does what --hash-inputs does, so a scheduled refresh sets it once in its
 * environment. Only 0 or 1: anything else is refused naming the variable.
 */
function hashInputsFromEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env.FLEET_HASH_INPUTS;
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw new CliError(`FLEET_HASH_INPUTS must be 0 or 1, got "${value}"`);
}

export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { request: RunRequest; workers: number; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, RUN_OPTIONS), options: RUN_OPTIONS, allowPositionals: false, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { request: undefined as never, workers: 0, help: true };
  if (!v.model) throw new CliError('--model <dir> is required');
  if (!v.out) throw new CliError('--out <dir|s3://...> is required');
  if (!v.stack && !v.rgb) throw new CliError('give --stack <file|dir|s3://...>, or --rgb, --irc and --elevation (or --dsm and --dtm)');
  if (v.elevation && (v.dsm || v.dtm)) throw new CliError('--elevation and --dsm/--dtm exclude each other: give a ready E band or the surfaces to compute it from');
  const sources: RunRequest['sources'] = {};
  for (const role of ['stack', 'rgb', 'irc', 'elevation', 'dsm', 'dtm'] as const) if (v[role]) sources[role] = v[role];
  const request: RunRequest = { sources, model: v.model, output: v.out };
  const overlap = intOption('overlap', v.overlap, 0);
  const blockSize = intOption('block-size', v['block-size'], 1);
  const topK = intOption('top-k', v['top-k'], 1);
  if (overlap !== undefined) request.overlap = overlap;
  if (blockSize !== undefined) request.blockSize = blockSize;
  if (topK !== undefined) request.topK = topK;
  if (v['run-id']) request.runId = v['run-id'];
  if (v['hash-inputs'] || hashInputsFromEnv(env)) request.hashInputs = true;
  return { request, workers: intOption('workers', v.workers, 1) ?? 1, help: false };
}
