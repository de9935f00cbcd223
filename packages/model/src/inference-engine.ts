import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { normalisationTables, normaliseInto } from './normalisation';
import { loadModelManifest, MANIFEST_FILE, ONNX_FILE, requiredLogits, type ModelManifest } from './model-manifest';

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

export interface InferenceOptions {
  /**
   * Execution provider. Default `'cpu'`. `'cuda'` and `'tensorrt'` fall back (tensorrt -> cuda -> cpu)
   * with a warning through `onWarning` when their libraries or device are unavailable.
   */
  provider?: ExecutionProvider;
  /** Intra-op threads for the session. Default 0: onnxruntime's own choice (one per physical core). */
  intraOpThreads?: number;
  /** Most patches per `session.run`. Default 4 (IGN's default). Forced to the graph's batch if it is fixed. */
  batchSize?: number;
  /** Run one dummy batch at load so the first real batch does not pay for allocation/kernel tuning. Default true. */
  warmup?: boolean;
  /** Receives non-fatal problems (provider fallback, forced batch size). Default: ignored. */
  onWarning?: (msg: string) => void;
}

export interface InferenceStats {
  /** `session.run` calls for real patches (warm-up excluded). */
  batches: number;
  /** Patches inferred. */
  windows: number;
  /** Milliseconds spent inside `session.run`. */
  runMs: number;
}

interface Pending {
  input: Uint8Array;
  resolve: (logits: Float32Array) => void;
  reject: (err: unknown) => void;
}

/** Providers to try, best first: each falls back to the next with a warning. */
const FALLBACKS: Record<ExecutionProvider, ExecutionProvider[]> = {
  tensorrt: ['tensorrt', 'cuda', 'cpu'],
  cuda: ['cuda', 'cpu'],
  cpu: ['cpu'],
};

function tensorShape(meta: ort.InferenceSession.ValueMetadata | undefined): ReadonlyArray<number | string> | undefined {
  return meta && meta.isTensor ? meta.shape : undefined;
}

/**
 * One onnxruntime session over a model folder (`model.json` + `model.onnx`), fed patch by patch.
 * Concurrent `infer` calls are gathered into batches so a worker can keep several windows in
 * flight while the session runs at full batch width.
 */
export class InferenceEngine {
  /** L, the size of the output's logit axis. */
  readonly logitCount: number;
  /** Provider the session actually runs on, after any fallback. */
  readonly provider: ExecutionProvider;
  /** Patches per `session.run`, after the graph's constraints. */
  readonly batchSize: number;

  private readonly queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private readonly counters: InferenceStats = { batches: 0, windows: 0, runMs: 0 };
  /** Per band, the normalised float for each raw byte: (v - mean) / std, so batching is a table lookup. */
  private readonly lut: Float32Array[];
  private readonly planeSize: number;
  private batchBuffer: Float32Array | undefined;
  /** The graph's batch dimension when it is a number: partial batches are zero-padded to it. */
  private readonly fixedBatch: number | undefined;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    config: { logitCount: number; provider: ExecutionProvider; batchSize: number; fixedBatch: number | undefined },
  ) {
    this.logitCount = config.logitCount;
    this.provider = config.provider;
    this.batchSize = config.batchSize;
    this.fixedBatch = config.fixedBatch;
    this.planeSize = manifest.patch * manifest.patch;
    this.lut = normalisationTables(manifest);
  }

  /** Reads the model folder, creates the session once, validates the graph against the manifest and warms up. */
  static async load(modelDir: string, options: InferenceOptions = {}): Promise<InferenceEngine> {
    const warn = options.onWarning ?? ((): void => undefined);
    const manifest = await loadModelManifest(modelDir);
    const onnxFile = join(modelDir, ONNX_FILE);
    const jsonFile = join(modelDir, MANIFEST_FILE);
    const bytes = await readFile(onnxFile);

    const requested = options.provider ?? 'cpu';
    if (!(requested in FALLBACKS)) throw new Error(`unknown provider ${String(requested)}; expected one of cpu, cuda, tensorrt`);
    let session: ort.InferenceSession | undefined;
    let provider: ExecutionProvider = 'cpu';
    for (const candidate of FALLBACKS[requested]) {
      const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [candidate] };
      if (options.intraOpThreads) sessionOptions.intraOpNumThreads = options.intraOpThreads;
      try {
        session = await ort.InferenceSession.create(bytes, sessionOptions);
        provider = candidate;
        break;
      } catch (err) {
        const message = (err as Error).message;
        // A CPU failure is the model itself (corrupt file, unsupported op): nothing to fall back to.
        if (candidate === 'cpu') throw new Error(`${onnxFile}: onnxruntime cannot load it: ${message}`);
        warn(`provider ${candidate} unavailable (${message}); falling back`);
      }
    }
    if (!session) throw new Error(`${onnxFile}: no execution provider could load it`);
    if (provider !== requested) warn(`running ${manifest.name} on ${provider} instead of ${requested}`);

    try {
      return await InferenceEngine.validateAndWarm(manifest, session, { onnxFile, jsonFile, provider, options, warn });
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  private static async validateAndWarm(
    manifest: ModelManifest,
    session: ort.InferenceSession,
    ctx: { onnxFile: string; jsonFile: string; provider: ExecutionProvider; options: InferenceOptions; warn: (m: string) => void },
  ): Promise<InferenceEngine> {
    const { onnxFile, jsonFile, options, warn } = ctx;
    const pick = (wanted: string | undefined, names: readonly string[], kind: 'input' | 'output'): string => {
      if (wanted === undefined) {
        const first = names[0];
        if (first === undefined) throw new Error(`${onnxFile}: the graph has no ${kind}`);
        return first;
      }
      if (!names.includes(wanted)) {
        throw new Error(`${jsonFile}: ${kind}: "${wanted}" is not a graph ${kind} of ${onnxFile} (it has ${names.join(', ')})`);
      }
      return wanted;
    };
    const inputName = pick(manifest.input, session.inputNames, 'input');
    const outputName = pick(manifest.output, session.outputNames, 'output');
    const inShape = tensorShape(session.inputMetadata[session.inputNames.indexOf(inputName)]);
    const outShape = tensorShape(session.outputMetadata[session.outputNames.indexOf(outputName)]);

    if (inShape && inShape.length > 0) {
      if (inShape.length !== 4) throw new Error(`${onnxFile}: input "${inputName}" must be [N, C, H, W], got [${inShape.join(', ')}]`);
      const channels = inShape[1];
      if (typeof channels === 'number' && channels !== manifest.bands.length) {
        throw new Error(
          `${onnxFile}: input "${inputName}" has ${channels} channels but ${jsonFile} bands lists ${manifest.bands.length} (${manifest.bands.join(',')})`,
        );
      }
      for (const axis of [2, 3]) {
        const size = inShape[axis];
        if (typeof size === 'number' && size !== manifest.patch) {
          throw new Error(`${onnxFile}: input "${inputName}" is fixed to ${inShape[2]}x${inShape[3]} but ${jsonFile} patch is ${manifest.patch}`);
        }
      }
    }

    let batchSize = options.batchSize ?? 4;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const batchDim = inShape?.[0];
    const fixedBatch = typeof batchDim === 'number' ? batchDim : undefined;
    if (fixedBatch !== undefined && fixedBatch !== batchSize) {
      warn(`${onnxFile}: batch dimension is fixed to ${fixedBatch}; batchSize ${batchSize} forced to ${fixedBatch}`);
      batchSize = fixedBatch;
    }

    let logitCount = outShape && typeof outShape[1] === 'number' ? outShape[1] : undefined;
    const engine = (count: number): InferenceEngine =>
      new InferenceEngine(manifest, session, inputName, outputName, { logitCount: count, provider: ctx.provider, batchSize, fixedBatch });

    // A symbolic logit axis is only known by running the graph, so that forces a warm-up batch.
    if (options.warmup ?? true) {
      const probe = engine(logitCount ?? 0);
      const dims = await probe.warmup();
      logitCount = dims[1];
    } else if (logitCount === undefined) {
      const dims = await engine(0).warmup(1);
      logitCount = dims[1];
    }
    if (logitCount === undefined) throw new Error(`${onnxFile}: output "${outputName}" has no logit axis`);
    const needed = requiredLogits(manifest);
    if (logitCount < needed) {
      throw new Error(
        `${onnxFile}: output "${outputName}" has ${logitCount} logits but ${jsonFile} classes use logit ${needed - 1} (needs at least ${needed})`,
      );
    }
    return engine(logitCount);
  }

  /** Runs zero-filled patches through the session (not counted in stats); returns the output dims. */
  private async warmup(count = this.batchSize): Promise<readonly number[]> {
    const n = this.fixedBatch ?? count;
    const data = new Float32Array(n * this.manifest.bands.length * this.planeSize);
    const dims = [n, this.manifest.bands.length, this.manifest.patch, this.manifest.patch];
    const result = await this.session.run({ [this.inputName]: new ort.Tensor('float32', data, dims) });
    return result[this.outputName]!.dims;
  }

  /**
   * One patch: band-separate uint8 planes concatenated `[bands][patch][patch]` (raw 0..255 values in
   * manifest band order); resolves to float32 logits `[L][patch][patch]`. Normalisation is done here.
   * Calls made while the session is busy queue and form the next batch.
   */
  infer(input: Uint8Array): Promise<Float32Array> {
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

  /** Stops accepting calls, lets queued ones finish, then releases the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.running || this.scheduled) await (this.running ?? new Promise((r) => setImmediate(r)));
    await this.session.release();
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

  private async runBatch(inputs: Uint8Array[]): Promise<Float32Array[]> {
    const bands = this.manifest.bands.length;
    const patchValues = bands * this.planeSize;
    const n = this.fixedBatch ?? inputs.length;
    // One buffer for the largest batch, reused: only one batch runs at a time and ORT copies it in.
    if (!this.batchBuffer || this.batchBuffer.length < n * patchValues) this.batchBuffer = new Float32Array(n * patchValues);
    const data = this.batchBuffer.subarray(0, n * patchValues);
    inputs.forEach((input, i) => normaliseInto(this.lut, input, data, i * patchValues));
    if (n > inputs.length) data.fill(0, inputs.length * patchValues);

    const dims = [n, bands, this.manifest.patch, this.manifest.patch];
    const started = performance.now();
    const result = await this.session.run({ [this.inputName]: new ort.Tensor('float32', data, dims) });
    this.counters.runMs += performance.now() - started;
    this.counters.batches += 1;
    this.counters.windows += inputs.length;

    const out = result[this.outputName];
    if (!out || out.type !== 'float32') throw new Error(`model ${this.manifest.name}: output "${this.outputName}" is not a float32 tensor`);
    const expected = [n, this.logitCount, this.manifest.patch, this.manifest.patch];
    if (out.dims.length !== 4 || out.dims.some((d, i) => d !== expected[i])) {
      throw new Error(`model ${this.manifest.name}: output "${this.outputName}" is [${out.dims.join(', ')}], expected [${expected.join(', ')}]`);
    }
    const values = out.data as Float32Array;
    const size = this.logitCount * this.planeSize;
    // Copies, so each caller owns its patch and the batch output can be collected.
    return inputs.map((_, i) => values.slice(i * size, (i + 1) * size));
  }
}
