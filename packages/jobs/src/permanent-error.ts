/**
 * Errors that retrying cannot fix carry `permanent: true` (RasterError for a corrupt or
 * truncated input, MaskTileFormatError, payload validation, a dalle gdal_translate refuses):
 * the job fails at once with BullMQ's UnrecoverableError instead of burning its attempts.
 * One convention for every queue's processors (worker, preparer).
 */
export function isPermanent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { permanent?: unknown }).permanent === true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
