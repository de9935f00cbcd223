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

  /** `maxPlanes`: the most planes kept; more given back are left to the garbage collector. Default 512. */
  constructor(private readonly maxPlanes = 512) {}

  /** A plane of `length` bytes that was given back, contents undefined; undefined if none. */
  take(length: number): Uint8Array | undefined {
    const plane = this.free.get(length)?.pop();
    if (plane) this.held--;
    return plane;
  }

  /** Gives back a decoded tile's soft planes (not its argmax, a view of the inflated body). */
  give(tile: MaskTile): void {
    for (const plane of [...tile.softIds, ...tile.softProbs]) {
      if (this.held >= this.maxPlanes) return;
      let list = this.free.get(plane.length);
      if (!list) this.free.set(plane.length, (list = []));
      list.push(plane);
      this.held++;
    }
  }

  /** Planes held now. */
  get size(): number {
    return this.held;
  }
}
