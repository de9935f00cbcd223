/**
 * Spare mask tile bodies (~0.85 MB each for a 512 px window at k = 2) for the windows of this
 * process: a body lives from the postprocess step until its compression settles, so at most one
 * per window in flight is taken; handing it back lets the next window write into it instead of
 * allocating a fresh one (zero-filled, then left to the garbage collector) per window.
 */
export class TileBodyPool {
  private readonly spare: Uint8Array[] = [];

  /** @param keep most buffers held between windows (default 16: the worker's usual windows in flight) */
  constructor(private readonly keep = 16) {}

  /** A buffer of at least `length` bytes, with stale contents (tileBodyFromOutputs writes every byte). */
  take(length: number): Uint8Array {
    // bodies differ in size only at the mosaic's edges: a short spare is dropped, not kept
    for (let spare = this.spare.pop(); spare !== undefined; spare = this.spare.pop()) {
      if (spare.length >= length) return spare;
    }
    return new Uint8Array(length);
  }

  /** Back for reuse: only once nothing reads it any more (the compression has settled). */
  give(buffer: Uint8Array): void {
    if (this.spare.length < this.keep) this.spare.push(buffer);
  }

  /** Buffers held now (for tests). */
  get size(): number {
    return this.spare.length;
  }
}
