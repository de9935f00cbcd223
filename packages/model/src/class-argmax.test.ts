import { argmaxClassIds } from './class-argmax';

describe('argmaxClassIds', () => {
  it('takes the argmax over listed logits only and writes class ids', () => {
    // 3 logits x 2 pixels: logit 1 is the largest everywhere but is not a listed class.
    const logits = Float32Array.from([0.5, 0.1, /* logit 1 */ 9, 9, /* logit 2 */ 0.2, 0.3]);
    const ids = argmaxClassIds(logits, 3, { classes: [{ logit: 0, id: 1, name: 'a', color: '#000000' }, { logit: 2, id: 3, name: 'c', color: '#000000' }] });
    expect(Array.from(ids)).toEqual([1, 3]);
  });
});
