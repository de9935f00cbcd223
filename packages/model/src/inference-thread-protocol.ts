/**
 * Messages between InferenceEngine (main thread) and inference-thread.js (the thread that owns
 * the onnxruntime session). Buffers travel as transferred ArrayBuffers: moved, never copied.
 */

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

/** `workerData` of the thread. */
export interface ThreadInit {
  /** The wrapped model's bytes (transferred). */
  model: ArrayBuffer;
  /** model.onnx path, for error messages. */
  source: string;
  /** Providers to try, best first. */
  providers: ExecutionProvider[];
  /** onnxruntime intra-op threads; 0 = its default. */
  intraOpThreads: number;
  /** Dims of a zero batch to run once before reporting ready; absent = no warm-up. */
  warmupDims?: number[];
}

export interface RunRequest {
  type: 'run';
  id: number;
  /** uint8 `[n][C][H][W]` raw pixels (transferred). */
  pixels: ArrayBuffer;
  dims: number[];
}

export interface CloseRequest {
  type: 'close';
}

export type ToThread = RunRequest | CloseRequest;

export interface RunOutputs {
  /** uint8 [n][H][W]. */
  classIds: ArrayBuffer;
  /** uint8 [n][k][H][W]. */
  topProbs: ArrayBuffer;
  topIds: ArrayBuffer;
  classIdsDims: number[];
  topDims: number[];
}

export type FromThread =
  | { type: 'warning'; message: string }
  | { type: 'ready'; provider: ExecutionProvider }
  /** `unavailableProvider`: the failure is that provider not loading (the last one tried, not cpu), not the model. */
  | { type: 'load-failed'; message: string; unavailableProvider?: ExecutionProvider }
  /** `pixels`: the request's input buffer, handed back once the run no longer reads it (the engine reuses it). */
  | ({ type: 'result'; id: number; runMs: number; pixels: ArrayBuffer } & RunOutputs)
  | { type: 'run-failed'; id: number; message: string }
  | { type: 'closed' };
