/** Byte-range access to one file or object: what openGeoTiff needs from local disks and S3 alike. */
export interface RangeReader {
  /** How errors name the file: a path, key or URL. */
  readonly name: string;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** `length` bytes from `offset`; the range lies within the object (openGeoTiff clamps it). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: fills `target` with the bytes from `offset` (its whole length), so a caller can
   * reuse one buffer for many blocks instead of a fresh one per read (local files).
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
}
