/**
 * Band planes of a window (width x height) placed in the top-left corner of patch x patch
 * planes, concatenated, zeros elsewhere: the model always sees full patches (only mosaics
 * smaller than a patch have smaller windows), like IGN's boundless reads.
 *
 * A full-size window whose planes are already consecutive views of one buffer (what
 * MosaicReader returns) comes back as a view of that buffer, not a copy: the caller must not
 * write to the planes while the result is in use (the engine copies it into its batch).
 */
export function padToPatch(planes: readonly Uint8Array[], width: number, height: number, patch: number): Uint8Array {
  const size = patch * patch;
  if (width === patch && height === patch) {
    const joined = consecutiveViews(planes, size);
    if (joined) return joined;
  }
  const out = new Uint8Array(planes.length * size);
  planes.forEach((plane, b) => {
    if (width === patch && height === patch) {
      out.set(plane, b * size);
      return;
    }
    for (let y = 0; y < height; y++) out.set(plane.subarray(y * width, (y + 1) * width), b * size + y * patch);
  });
  return out;
}

/** The planes as one view when each of `size` bytes follows the previous one in the same buffer. */
function consecutiveViews(planes: readonly Uint8Array[], size: number): Uint8Array | undefined {
  const first = planes[0];
  if (!first) return undefined;
  for (let b = 0; b < planes.length; b++) {
    const plane = planes[b]!;
    if (plane.buffer !== first.buffer || plane.length !== size || plane.byteOffset !== first.byteOffset + b * size) return undefined;
  }
  return new Uint8Array(first.buffer, first.byteOffset, planes.length * size);
}
