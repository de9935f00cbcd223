import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InferenceThread, type StartOptions } from './inference-thread-client';
import type { ExecutionProvider } from './inference-thread-protocol';
import { loadModelManifest, MANIFEST_FILE, ONNX_FILE, type ModelManifest } from './model-manifest';
import { wrapModel } from './wrap-model';
import { FALLBACKS } from './provider-fallbacks';

export type { ExecutionProvider } from './inference-thread-protocol';
export { ProviderUnavailableError } from './provider-unavailable-error';

export interface InferenceOptions {
  /**
   * Execution provider. Default `'cpu'`. When `'cuda'` or `'tensorrt'` cannot be loaded (no
   * libraries, no device), `load` rejects with a {@link ProviderUnavailableError}, unless
   * `fallback` allows another provider.
   */
  provider?: ExecutionProvider;
  /**
   * Opt-in fallback when `provider` cannot be loaded: `'cpu'` tries tensorrt -> cuda -> cpu (from
   * the provider asked for down), with a warning through `onWarning`. Default: none, the load fails,
   * so a GPU worker never runs silently on the CPU.
   */
  fallback?: 'cpu';
  /** Intra-op threads for the session. Default 0: onnxruntime's own choice (one per physical core). */
  intraOpThreads?: number;
  /** Most patches per `session.run`. Default 4 (IGN's default). Forced to the graph's batch if it is fixed. */
  batchSize?: number;
  /** Run one zero batch at load so the first real batch does not pay for allocation/kernel tuning. Default true. */
  warmup?: boolean;
  /** Classes kept per pixel with their probabilities (top-k). Default 2; capped at the manifest's class count. */
  topK?: number;
  /**
   * Called after each `session.run` on real patches (warm-up excluded), e.g. to log one line per
   * batch. Default: none. An exception it throws is ignored.
   */
  onBatch?: (batch: BatchInfo) => void;
  /** Receives non-fatal problems (provider fallback, forced batch size, raised opset). Default: ignored. */
  onWarning?: (msg: string) => void;
}

/** One `session.run`, as reported to `onBatch`. */
export interface BatchInfo {
  /** Real patches in the batch (padding excluded). */
  windows: number;
  /** Patches the session ran (the graph's fixed batch when it pads, else `windows`). */
  batchSize: number;
  /** Milliseconds inside `session.run`, on the inference thread. */
  runMs: number;
  /** Provider the session runs on. */
  provider: ExecutionProvider;
}

export interface InferenceStats {
  /** `session.run` calls for real patches (warm-up excluded). */
  batches: number;
  /** Patches inferred. */
  windows: number;
  /** Milliseconds spent inside `session.run`, on the inference thread. */
  runMs: number;
}

/** What the wrapped graph returns for one patch (all uint8, patch x patch planes). */
export interface PatchInference {
  /** FLAIR class id per pixel: the argmax over the manifest's classes (first listed wins ties). */
  classIds: Uint8Array;
  /** `[k][patch][patch]`: class ids ranked by probability (rank 0 first; equal probabilities: the class listed first). */
  topIds: Uint8Array;
  /** `[k][patch][patch]`: round(p * 255) of those classes, p their softmax probability over the enabled classes. */
  topProbs: Uint8Array;
}

interface Pending {
  input: Uint8Array;
  resolve: (out: PatchInference) => void;
  reject: (err: unknown) => void;
}


/**
 * One onnxruntime session over a model folder (`model.json` + `model.onnx`), fed patch by patch.
 * The user's model is wrapped (wrap-model.ts) so normalisation, class selection, argmax, softmax
 * and top-k run inside the session, and the session lives on its own thread
 * (inference-thread.js), so a batch never blocks this thread's event loop. Concurrent `infer`
 * calls are gathered into batches so a worker can keep several windows in flight while the
 * session runs at full batch width.
 */
export class InferenceEngine {
  /** L, the size of the user model's logit axis; undefined when the graph leaves it symbolic. */
  readonly logitCount: number | undefined;
  /** Provider the session actually runs on, after any fallback. */
  readonly provider: ExecutionProvider;
  /** Patches per `session.run`, after the graph's constraints. */
  readonly batchSize: number;
  /** Classes kept per pixel (`topIds`/`topProbs` planes per patch). */
  readonly topK: number;

  private readonly queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private readonly counters: InferenceStats = { batches: 0, windows: 0, runMs: 0 };
  /**
   * The last batch's input buffer, back from the thread (batches run one at a time): the next
   * batch of the same size fills it instead of a fresh, zeroed one of MBs (1.3 MB per 512 px
   * window, 5.2 MB per 1024 px one), which the GC then has to collect.
   */
  private spareInput: ArrayBuffer | undefined;
  private readonly planeSize: number;
  private readonly onBatch: ((batch: BatchInfo) => void) | undefined;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly thread: InferenceThread,
    private readonly source: string,
    config: {
      logitCount: number | undefined;
      provider: ExecutionProvider;
      batchSize: number;
      topK: number;
      fixedBatch: number | undefined;
      onBatch: ((batch: BatchInfo) => void) | undefined;
    },
  ) {
    this.onBatch = config.onBatch;
    this.logitCount = config.logitCount;
    this.provider = config.provider;
    this.batchSize = config.batchSize;
    this.topK = config.topK;
    this.fixedBatch = config.fixedBatch;
    this.planeSize = manifest.patch * manifest.patch;
  }

  /** The graph's batch dimension when it is a number: partial batches are zero-padded to it. */
  private readonly fixedBatch: number | undefined;

  /**
   * Reads the model folder, wraps the graph, starts the session's thread once (validating the
   * graph against the manifest) and warms up.
   */
  static async load(modelDir: string, options: InferenceOptions = {}, thread?: Pick<StartOptions, 'script'>): Promise<InferenceEngine> {
    const warn = options.onWarning ?? ((): void => undefined);
    const manifest = await loadModelManifest(modelDir);
    const onnxFile = join(modelDir, ONNX_FILE);
    const jsonFile = join(modelDir, MANIFEST_FILE);
    const requested = options.provider ?? 'cpu';
    if (!(requested in FALLBACKS)) throw new Error(`unknown provider ${String(requested)}; expected one of cpu, cuda, tensorrt`);
    let batchSize = options.batchSize ?? 4;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const topK = Math.min(options.topK ?? 2, manifest.classes.length);

    const wrapped = wrapModel(await readFile(onnxFile), manifest, { k: topK, source: onnxFile, manifestSource: jsonFile });
    wrapped.warnings.forEach((w) => warn(w));
    const batchDim = wrapped.inputDims[0];
    const fixedBatch = typeof batchDim === 'number' ? batchDim : undefined;
    if (fixedBatch !== undefined && fixedBatch !== batchSize) {
      warn(`${onnxFile}: batch dimension is fixed to ${fixedBatch}; batchSize ${batchSize} forced to ${fixedBatch}`);
      batchSize = fixedBatch;
    }
    // A symbolic logit axis is only checked by running the graph, so that forces a warm-up batch.
    const warmupBatch = (options.warmup ?? true) ? batchSize : wrapped.logitCount === undefined ? (fixedBatch ?? 1) : undefined;
    const dims = (n: number): number[] => [n, manifest.bands.length, manifest.patch, manifest.patch];

    // Transferred to the thread, so it must be a buffer of exactly the model's bytes: copied only if it is not.
    const { bytes } = wrapped;
    const model =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes.buffer
        : new Uint8Array(bytes).buffer;
    const { thread: started, provider } = await InferenceThread.start(
      {
        model,
        source: onnxFile,
        providers: options.fallback === 'cpu' ? FALLBACKS[requested] : [requested],
        intraOpThreads: options.intraOpThreads ?? 0,
        ...(warmupBatch === undefined ? {} : { warmupDims: dims(warmupBatch) }),
      },
      { onWarning: warn, ...thread },
    );
    if (provider !== requested) warn(`running ${manifest.name} on ${provider} instead of ${requested}`);
    return new InferenceEngine(manifest, started, onnxFile, { logitCount: wrapped.logitCount, provider, batchSize, topK, fixedBatch, onBatch: options.onBatch });
  }

  /**
   * One patch: band-separate uint8 planes concatenated `[bands][patch][patch]` (raw 0..255 values in
   * manifest band order). Resolves to the class ids and top-k planes of the patch.
   * Calls made while the session is busy queue and form the next batch.
   */
  infer(input: Uint8Array): Promise<PatchInference> {
    if (this.closed) return Promise.reject(new Error(`inference engine for ${this.manifest.name} is closed`));
    const expected = this.manifest.bands.length * this.planeSize;
    if (input.length !== expected) {
      return Promise.reject(
        new RangeError(
          `infer input has ${input.length} bytes; expected ${this.manifest.bands.length} bands x ${this.manifest.patch} x ${this.manifest.patch} = ${expected}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  stats(): InferenceStats {
    return { ...this.counters };
  }

  /** Stops accepting calls, lets queued ones finish, then releases the session and ends its thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.running || this.scheduled) await (this.running ?? new Promise((r) => setImmediate(r)));
    await this.thread.close();
  }

  /**
   * Starts a drain on the next microtask rather than synchronously, so calls issued in the same
   * tick (a `Promise.all` over several windows) share the first batch instead of the first call
   * running alone.
   */
  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        // A call may have queued between the drain's last check and here.
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        const outputs = await this.runBatch(batch.map((p) => p.input));
        batch.forEach((p, i) => p.resolve(outputs[i]!));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }

  private async runBatch(inputs: Uint8Array[]): Promise<PatchInference[]> {
    const patchBytes = this.manifest.bands.length * this.planeSize;
    const n = this.fixedBatch ?? inputs.length;
    // The buffer is transferred to the thread, and comes back with the result. Padding patches
    // (a fixed batch larger than the windows) are zero: a reused buffer is zeroed there.
    const spare = this.spareInput?.byteLength === n * patchBytes ? this.spareInput : undefined;
    this.spareInput = undefined;
    const pixels = spare ? new Uint8Array(spare) : new Uint8Array(n * patchBytes);
    inputs.forEach((input, i) => pixels.set(input, i * patchBytes));
    if (spare && inputs.length < n) pixels.fill(0, inputs.length * patchBytes);
    const result = await this.thread.run(pixels, [n, this.manifest.bands.length, this.manifest.patch, this.manifest.patch]);
    this.spareInput = result.pixels;
    this.counters.runMs += result.runMs;
    this.counters.batches += 1;
    this.counters.windows += inputs.length;
    try {
      this.onBatch?.({ windows: inputs.length, batchSize: n, runMs: result.runMs, provider: this.provider });
    } catch {
      // a logging callback must not fail the batch's windows
    }

    const { patch } = this.manifest;
    const k = this.topK;
    const same = (dims: number[], expected: number[]): boolean => dims.length === expected.length && dims.every((d, i) => d === expected[i]);
    if (!same(result.classIdsDims, [n, patch, patch]) || !same(result.topDims, [n, k, patch, patch])) {
      throw new Error(
        `${this.source}: the model returned class ids [${result.classIdsDims.join(', ')}] and top-k [${result.topDims.join(', ')}], ` +
          `expected [${n}, ${patch}, ${patch}] and [${n}, ${k}, ${patch}, ${patch}] (does its output keep the input's height and width?)`,
      );
    }
    const classIds = new Uint8Array(result.classIds);
    const topIds = new Uint8Array(result.topIds);
    const topProbs = new Uint8Array(result.topProbs);
    const plane = this.planeSize;
    // Views into the transferred buffers: each patch's slices are disjoint, nothing is copied.
    return inputs.map((_, i) => ({
      classIds: classIds.subarray(i * plane, (i + 1) * plane),
      topIds: topIds.subarray(i * k * plane, (i + 1) * k * plane),
      topProbs: topProbs.subarray(i * k * plane, (i + 1) * k * plane),
    }));
  }
}
