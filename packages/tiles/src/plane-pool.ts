import type { MaskTile } from './mask-tile';

/**
 * Soft planes of tiles a merge is done with, handed to decodeMaskTile again instead of new
 * arrays: a 25,000 px block decodes ~4,000 tiles of ~0.5 MB of soft planes each, and
 * allocating them anew kept the garbage collector busy (external memory pressure; BENCHMARKS.md,
 * "Merger speed"). Only for tiles decodeMaskTile made, once nothing reads them any more.
 */
export class PlanePool {
  private readonly free = new Map<number, Uint8Array[]>();
  private held = 0;
  private heldBytes = 0;

  /**
   * `maxBytes`: the most bytes of planes kept; planes given back beyond it are left to the
   * garbage collector. Default 128 MiB (a merge gives back about what it takes, a row of
   * windows at a time: 2 planes x 33 windows of 1024 px at k = 1 in a 25,000 px block are 66 MiB).
   */
  constructor(private readonly maxBytes = 128 * 2 ** 20) {}

  /** A plane of `length` bytes that was given back, contents undefined; undefined if none. */
  take(length: number): Uint8Array | undefined {
    const plane = this.free.get(length)?.pop();
    if (plane) {
      this.held--;
      this.heldBytes -= plane.length;
    }
    return plane;
  }

  /** Gives back a decoded tile's soft planes (not its argmax, a view of the inflated body). */
  give(tile: MaskTile): void {
    for (const plane of [...tile.softIds, ...tile.softProbs]) {
      if (this.heldBytes + plane.length > this.maxBytes) return;
      let list = this.free.get(plane.length);
      if (!list) this.free.set(plane.length, (list = []));
      list.push(plane);
      this.held++;
      this.heldBytes += plane.length;
    }
  }

  /** Planes held now. */
  get size(): number {
    return this.held;
  }
}
