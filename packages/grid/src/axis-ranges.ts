/**
 * Index range [first, last] of windows along one axis whose span [start, start + size)
 * intersects [from, to). Starts are ascending and windows have equal nominal size, so
 * both ends are found by binary search. Returns undefined when nothing intersects.
 */
export function intersectingRange(
  starts: readonly number[],
  sizeAt: (index: number) => number,
  from: number,
  to: number,
): [number, number] | undefined {
  // first window whose end is past `from`
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! + sizeAt(mid) > from) hi = mid;
    else lo = mid + 1;
  }
  const first = lo;
  // last window whose start is before `to`
  lo = 0;
  hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! < to) lo = mid + 1;
    else hi = mid;
  }
  const last = lo - 1;
  return first <= last ? [first, last] : undefined;
}
