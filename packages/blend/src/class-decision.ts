/**
 * How a pixel several windows voted on is decided, shared by BlendAccumulator's row passes and
 * the disputed-pixel loops (disputed-pixels.ts), so both decide by one rule.
 */

/**
 * The class of a pixel several windows voted on, from the `touched` classes it has scores for
 * (every other class scores 0): the top score's lowest class index, unless that top is tied
 * and the fallback (the highest-weight voter's class, index `fallbackIndex`) has it.
 */
export function decide(
  touchedClass: Int16Array,
  touchedScore: Float32Array,
  base: number,
  touched: number,
  fallback: number,
  fallbackIndex: number,
  classIds: readonly number[],
  classCount: number,
): number {
  let top = 0;
  for (let t = base; t < base + touched; t++) if (touchedScore[t]! > top) top = touchedScore[t]!;
  if (top === 0) {
    // every class at 0: the first leads, tied with the others, and the fallback scores 0 too
    return classCount > 1 && fallbackIndex >= 0 ? fallback : classIds[0]!;
  }
  let topIndex = classCount;
  let atTop = 0;
  let fallbackScore = 0;
  for (let t = base; t < base + touched; t++) {
    const score = touchedScore[t]!;
    const ci = touchedClass[t]!;
    if (ci === fallbackIndex) fallbackScore = score;
    if (score === top) {
      atTop++;
      if (ci < topIndex) topIndex = ci;
    }
  }
  return atTop > 1 && fallbackIndex >= 0 && fallbackScore === top ? fallback : classIds[topIndex]!;
}

/** The error for a soft class id the model does not have. */
export function unknownClass(id: number): RangeError {
  return new RangeError(`class id ${id} is not one of the model's classes`);
}
