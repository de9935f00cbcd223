import { execFile } from 'node:child_process';

/** gdal_translate is missing (ENOENT): says how to install it. */
export class GdalMissingError extends Error {
  constructor() {
    super('gdal_translate not found on PATH: install GDAL, e.g. sudo apt-get install gdal-bin');
    this.name = 'GdalMissingError';
  }
}

/** gdal_translate ran and failed: the input cannot be converted, so retrying will not help. */
export class GdalTranslateError extends Error {
  readonly permanent = true;
  constructor(readonly input: string, readonly stderrLine: string) {
    super(`${input}: gdal_translate failed: ${stderrLine}`);
    this.name = 'GdalTranslateError';
  }
}

export interface CogOptions {
  /** Threads for decoding and compressing. */
  threads: number;
  /** Dataset metadata items written into the COG (GDAL_METADATA), e.g. the source's version. */
  metadata: Record<string, string>;
}

/**
 * Arguments for `gdal_translate -of COG`: DEFLATE with the horizontal predictor (lossless, and
 * the predictor helps on smooth uint8 imagery), 512 px tiles like the model's windows, BigTIFF
 * only where a 25,000 px dalle could pass 4 GiB. GDAL copies the georeferencing itself.
 */
export function cogTranslateArgs(input: string, output: string, options: CogOptions): string[] {
  const threads = String(options.threads);
  const metadata = Object.entries(options.metadata).flatMap(([name, value]) => ['-mo', `${name}=${value}`]);
  return [
    '-q',
    '-of', 'COG',
    '-co', 'COMPRESS=DEFLATE',
    '-co', 'PREDICTOR=YES',
    '-co', 'BLOCKSIZE=512',
    '-co', 'BIGTIFF=IF_SAFER',
    '-co', `NUM_THREADS=${threads}`,
    // the JP2OpenJPEG driver decodes code-blocks on GDAL_NUM_THREADS threads
    '--config', 'GDAL_NUM_THREADS', threads,
    ...metadata,
    input,
    output,
  ];
}

/** The last non-empty line GDAL wrote: its error ("ERROR 1: ..."), not the warnings before it. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.at(-1) ?? '(no message)';
}

/** Runs gdal_translate without a shell; `name` is how errors name the input (a path or s3:// URL). */
export function runGdalTranslate(args: string[], name: string, executable = 'gdal_translate'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(executable, args, { maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new GdalMissingError());
      reject(new GdalTranslateError(name, lastLine(String(stderr) || err.message)));
    });
  });
}

/** Fails with GdalMissingError when gdal_translate cannot be run, before any job is taken. */
export function assertGdalTranslate(executable = 'gdal_translate'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(executable, ['--version'], (err) => {
      if (!err) return resolve();
      reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? new GdalMissingError() : err);
    });
  });
}
