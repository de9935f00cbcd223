/**
 * Checks the arguments of getRange, the same way on every backend, before any I/O: a bad
 * offset would otherwise become a malformed Range header on S3 and a silent short read locally.
 */
export function assertByteRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`getRange offset must be a non-negative integer, got ${offset}`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`getRange length must be a non-negative integer, got ${length}`);
  }
}
