/**
 * How much memory one session.run of the FLAIR-shaped model takes per window size and batch:
 * the growth of the process's peak RSS over one run on onnxruntime's CPU provider (activations
 * and workspace; the weights are loaded before the first reading). A proxy for GPU memory, which
 * grows with a batch's pixels the same way.
 *
 *   npx tsc -p bench/tsconfig.json && node bench/dist/session-memory.js SIDE [BATCH]
 *
 * One run per process: the peak RSS only ever grows, so each reading needs a fresh process.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { flairShapedModel } from './fixtures';

async function main(): Promise<void> {
  const side = Number(process.argv[2]);
  const batch = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(side) || side % 32 !== 0 || side <= 0 || !Number.isInteger(batch) || batch < 1) {
    throw new Error('usage: node bench/dist/session-memory.js SIDE [BATCH]  (SIDE a multiple of 32, BATCH >= 1)');
  }
  const dir = await flairShapedModel();
  const session = await ort.InferenceSession.create(await readFile(join(dir, 'model.onnx')), { executionProviders: ['cpu'] });
  const peakBefore = process.resourceUsage().maxRSS; // kB
  const t0 = performance.now();
  await session.run({ input: new ort.Tensor('float32', new Float32Array(batch * 5 * side * side), [batch, 5, side, side]) });
  const ms = performance.now() - t0;
  const growthGB = (process.resourceUsage().maxRSS - peakBefore) / 1e6;
  await session.release();
  process.stdout.write(`${JSON.stringify({ side, batch, peakRssBeforeGB: +(peakBefore / 1e6).toFixed(2), runGrowthGB: +growthGB.toFixed(2), seconds: +(ms / 1000).toFixed(1) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`session-memory failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
