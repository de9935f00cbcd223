/**
 * Band planes of a window (width x height) placed in the top-left corner of patch x patch
 * planes, concatenated, zeros elsewhere: the model always sees full patches (only mosaics
 * smaller than a patch have smaller windows), like IGN's boundless reads.
 */
export function padToPatch(planes: readonly Uint8Array[], width: number, height: number, patch: number): Uint8Array {
  const size = patch * patch;
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
