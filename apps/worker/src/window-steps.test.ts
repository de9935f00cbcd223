/**
 * The window's pixel buffer (window-buffers.ts) is reused across windows: it must go back to the
 * pool whatever happens to the window, and never be handed to two windows in flight at once.
 * The reader and engine here are plain objects standing for MosaicReader and InferenceEngine,
 * whose own suites test them; what is tested is inferWindow's handling of the buffer.
 */
import { planWindows, windowAt } from '@fleet/grid';
import type { MosaicWindow } from '@fleet/raster';
import { windowBuffers } from './window-buffers';
import { inferWindow, type WindowSteps } from './window-steps';

const PATCH = 8;
const plan = planWindows(32, 32, { patch: PATCH, overlap: 0 });
const BANDS = ['R', 'G'] as const;
const BYTES = BANDS.length * PATCH * PATCH;

/** A window read into `into`: band planes as consecutive views, every pixel valid. */
function windowIn(into: Uint8Array): MosaicWindow {
  into.fill(7);
  const n = PATCH * PATCH;
  return { planes: BANDS.map((_, b) => into.subarray(b * n, (b + 1) * n)), valid: new Uint8Array(n).fill(1), validCount: n };
}

function steps(reader: WindowSteps['reader'], infer: WindowSteps['engine']['infer']): WindowSteps {
  return {
    runId: 'run',
    plan,
    reader,
    output: { put: async () => undefined },
    engine: { manifest: { patch: PATCH, bands: BANDS }, topK: 1, infer },
  };
}

describe('inferWindow and its reused pixel buffer', () => {
  it('gives the buffer back when the read fails, and when inference fails', async () => {
    const given: Uint8Array[] = [];
    const failingRead = steps({ read: async (_w, _b, options) => {
      given.push(options!.into!);
      throw new Error('disk gone');
    } }, async () => {
      throw new Error('not reached');
    });
    await expect(inferWindow(failingRead, windowAt(plan, 0, 0))).rejects.toThrow('disk gone');
    expect(windowBuffers.take(BYTES).buffer).toBe(given[0]!.buffer);
    windowBuffers.give(given[0]!);

    const failingInfer = steps({ read: async (_w, _b, options) => {
      given.push(options!.into!);
      return windowIn(options!.into!);
    } }, async () => {
      throw new Error('session lost');
    });
    await expect(inferWindow(failingInfer, windowAt(plan, 0, 1))).rejects.toThrow('session lost');
    const again = windowBuffers.take(BYTES);
    expect(again.buffer).toBe(given[1]!.buffer);
    windowBuffers.give(again);
  });

  it('reads windows in flight into distinct buffers, and the engine gets the pixels read', async () => {
    const into: Uint8Array[] = [];
    const inferred: Uint8Array[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const s = steps({ read: async (_w, _b, options) => {
      into.push(options!.into!);
      await held;
      return windowIn(options!.into!);
    } }, async (patch) => {
      inferred.push(Uint8Array.from(patch));
      throw new Error('stop after inference'); // the tile steps are not what is tested here
    });
    const a = inferWindow(s, windowAt(plan, 1, 0));
    const b = inferWindow(s, windowAt(plan, 1, 1));
    await new Promise((r) => setImmediate(r));
    expect(into).toHaveLength(2);
    expect(into[0]!.buffer).not.toBe(into[1]!.buffer);
    release();
    await expect(a).rejects.toThrow('stop after inference');
    await expect(b).rejects.toThrow('stop after inference');
    expect(inferred.map((p) => p.every((v) => v === 7))).toEqual([true, true]);
  });

  it('skips a window with no valid pixel without inferring it, and gives its buffer back', async () => {
    let got: Uint8Array | undefined;
    const s = steps({ read: async (_w, _b, options) => {
      got = options!.into!;
      return { ...windowIn(got), valid: new Uint8Array(PATCH * PATCH), validCount: 0 };
    } }, async () => {
      throw new Error('a skipped window is not inferred');
    });
    await expect(inferWindow(s, windowAt(plan, 2, 0))).resolves.toMatchObject({ outcome: 'skipped' });
    const again = windowBuffers.take(BYTES);
    expect(again.buffer).toBe(got!.buffer);
    windowBuffers.give(again);
  });
});
