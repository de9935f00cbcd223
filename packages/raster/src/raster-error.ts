/**
 * A raster file that cannot be used as it is: not a TIFF, truncated, corrupt, not
 * georeferenced, or of the wrong sample type. Retrying will not help, so `permanent` is set
 * for job handlers to turn it into an unrecoverable failure. I/O errors from the underlying
 * reader (network, disk) are NOT wrapped in this class: they may be transient.
 */
export class RasterError extends Error {
  /** Retrying the same file will fail the same way. */
  readonly permanent = true;

  constructor(
    /** The file (path or object name) the problem is in. */
    readonly file: string,
    /** What is wrong, without the file name (it is prefixed to the message). */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = 'RasterError';
  }
}
