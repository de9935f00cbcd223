import { addPixelChanges, emptyPixelChanges, hectaresOf, sumPixelChanges } from './pixel-changes';

describe('pixel changes', () => {
  it('counts, per class, pixels gained and lost; nodata is neither', () => {
    const c = addPixelChanges(emptyPixelChanges(), Uint8Array.from([1, 1, 5, 0, 2]), Uint8Array.from([1, 5, 5, 3, 0]));
    expect(c.changed).toBe(3);
    expect(Object.fromEntries(c.gained)).toEqual({ 5: 1, 3: 1 });
    expect(Object.fromEntries(c.lost)).toEqual({ 1: 1, 2: 1 });
  });

  it('a block that did not exist: every class pixel gained; one removed: every class pixel lost', () => {
    const pixels = Uint8Array.from([1, 0, 4, 4]);
    const added = addPixelChanges(emptyPixelChanges(), undefined, pixels);
    expect(Object.fromEntries(added.gained)).toEqual({ 1: 1, 4: 2 });
    expect(added.lost.size).toBe(0);
    const removed = addPixelChanges(emptyPixelChanges(), pixels, undefined);
    expect(Object.fromEntries(removed.lost)).toEqual({ 1: 1, 4: 2 });
    expect(removed.gained.size).toBe(0);
  });

  it('the gains and losses balance once nodata is accounted for, and sum across blocks', () => {
    const a = addPixelChanges(emptyPixelChanges(), Uint8Array.from([1, 2, 3]), Uint8Array.from([2, 3, 1]));
    const b = addPixelChanges(emptyPixelChanges(), undefined, Uint8Array.from([2, 2]));
    const total = sumPixelChanges([a, b]);
    expect(Object.fromEntries(total.gained)).toEqual({ 1: 1, 2: 3, 3: 1 });
    expect(Object.fromEntries(total.lost)).toEqual({ 1: 1, 2: 1, 3: 1 });
    expect(total.changed).toBe(5);
  });

  it('refuses two stretches of different lengths', () => {
    expect(() => addPixelChanges(emptyPixelChanges(), new Uint8Array(2), new Uint8Array(3))).toThrow('2 previous pixels against 3');
  });

  it('hectares: 20 cm pixels, 250,000 px = 1 ha', () => {
    expect(hectaresOf(new Map([[5, 250_000], [1, 125]]), 0.04)).toEqual({ '1': 0.0005, '5': 1 });
  });
});
