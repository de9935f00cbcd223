/** Byte-range access to one file or object: what openGeoTiff needs from local disks and S3 alike. */
export interface RangeReader {
  /** How errors name the file: a path, key or URL. */
  readonly name: string;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** `length` bytes from `offset`; the range lies within the object (openGeoTiff clamps it). */
  read(offset: number, length: number): Promise<Uint8Array>;
}
