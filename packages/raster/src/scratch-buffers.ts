/**
 * Reusable byte buffers for data that lives only until the next step has consumed it (a
 * tile's compressed bytes until they are inflated). A fresh buffer per tile is cheap to
 * allocate but not to collect: every few megabytes of ArrayBuffers V8 runs a full
 * mark-compact (measured: a quarter of a window read's CPU, BENCHMARKS.md issue 13).
 *
 * Buffers taken concurrently are distinct; a buffer given back is handed out again, so the
 * giver must not keep a view of it. At most `keep` buffers wait in the pool, and none larger
 * than `maxBytes` (a rare huge block is not held for the process's lifetime).
 */
export class ScratchBuffers {
  private readonly free: Uint8Array[] = [];

  constructor(
    private readonly keep = 16,
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  /** A buffer of exactly `length` bytes (a view of a pooled one, contents undefined). */
  take(length: number): Uint8Array {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const buffer = this.free[i]!;
      if (buffer.byteLength >= length) {
        this.free.splice(i, 1);
        return buffer.subarray(0, length);
      }
    }
    // rounded up to 64 KiB so tiles of slightly different sizes reuse one buffer
    return new Uint8Array(Math.ceil(Math.max(length, 1) / 65536) * 65536).subarray(0, length);
  }

  /** Returns a buffer from `take` to the pool (its whole allocation, not the view's length). */
  give(view: Uint8Array): void {
    const whole = new Uint8Array(view.buffer, 0, view.buffer.byteLength);
    if (whole.byteLength > this.maxBytes) return;
    if (this.free.length >= this.keep) this.free.shift();
    this.free.push(whole);
  }
}
