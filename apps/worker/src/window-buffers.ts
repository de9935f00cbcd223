import { ScratchBuffers } from '@fleet/raster';

/**
 * Pixel buffers of windows being read, reused once the engine has copied a window into its
 * batch (when `infer` resolves): a fresh 1.3 MB buffer per 512 px window of 5 bands was the
 * largest allocation of the read and what made V8 run full collections (BENCHMARKS.md,
 * issue 13). Enough are kept for the windows a worker has in flight; a buffer is never handed
 * to two windows at once.
 */
export const windowBuffers = new ScratchBuffers(16, 16 * 1024 * 1024);
