import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExecutionProvider, FromThread, RunOutputs, ThreadInit, ToThread } from './inference-thread-protocol';
import { ProviderUnavailableError } from './provider-unavailable-error';

/**
 * The thread's program. The same path works from dist/ (tsc copies the .js next to this file)
 * and under jest (the package runs from src/, where the .js lives): see inference-thread.js.
 */
export const INFERENCE_THREAD_SCRIPT = join(__dirname, 'inference-thread.js');

export interface ThreadResult extends RunOutputs {
  runMs: number;
  /** The batch's input buffer, transferred back: the run is over, so the caller may fill it again. */
  pixels: ArrayBuffer;
}

interface PendingRun {
  resolve: (result: ThreadResult) => void;
  reject: (err: Error) => void;
}

export interface StartOptions {
  onWarning: (msg: string) => void;
  /** The thread's program; default the real one. Test support: inline code run with `eval`. */
  script?: { code: string };
}

/**
 * The main thread's side of one inference thread: starts it, posts batches with their buffers
 * transferred, and settles each batch's promise from the thread's reply. If the thread dies,
 * every pending and later run is rejected with the model file named.
 */
export class InferenceThread {
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 0;
  private failure: Error | undefined;
  private readonly exited: Promise<number>;
  private closing = false;

  private constructor(private readonly worker: Worker, private readonly source: string) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (msg: FromThread) => this.onMessage(msg));
    worker.on('error', (err) => this.fail(new Error(`${source}: the inference thread crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`${source}: the inference thread exited (code ${code})`));
    });
    // An idle thread must not keep the process alive (a session on the main thread did not): ref only while runs are pending.
    worker.unref();
  }

  /** Starts the thread and resolves once its session is created (and warmed up); rejects with the thread's load error. */
  static start(init: ThreadInit, options: StartOptions): Promise<{ thread: InferenceThread; provider: ExecutionProvider }> {
    const worker = options.script
      ? new Worker(options.script.code, { eval: true, workerData: init, transferList: [init.model] })
      : new Worker(INFERENCE_THREAD_SCRIPT, { workerData: init, transferList: [init.model] });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromThread): void => {
        if (msg.type === 'warning') {
          options.onWarning(msg.message);
        } else if (msg.type === 'ready') {
          cleanup();
          resolve({ thread: new InferenceThread(worker, init.source), provider: msg.provider });
        } else if (msg.type === 'load-failed') {
          cleanup();
          void worker.terminate();
          reject(msg.unavailableProvider ? new ProviderUnavailableError(msg.unavailableProvider, firstLine(msg.message)) : new Error(msg.message));
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        void worker.terminate();
        reject(new Error(`${init.source}: the inference thread crashed while loading: ${err.message}`));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`${init.source}: the inference thread exited (code ${code}) while loading`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** Runs one batch; `pixels` is transferred (unusable here afterwards). */
  run(pixels: Uint8Array, dims: number[]): Promise<ThreadResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error(`${this.source}: the inference thread is closed`));
    // Transfer needs a buffer of exactly these bytes: copy only if `pixels` is a view into a larger one.
    const buffer =
      pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer
        ? pixels.buffer
        : new Uint8Array(pixels).buffer;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      const request: ToThread = { type: 'run', id, pixels: buffer, dims };
      this.worker.postMessage(request, [buffer]);
    });
  }

  /** Releases the session and ends the thread (terminated if it does not end by itself within `graceMs`). */
  async close(graceMs = 5_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.worker.ref();
    const request: ToThread = { type: 'close' };
    this.worker.postMessage(request);
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(msg: FromThread): void {
    if (msg.type !== 'result' && msg.type !== 'run-failed') return;
    const run = this.pending.get(msg.id);
    if (!run) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
    if (msg.type === 'run-failed') run.reject(new Error(msg.message));
    else run.resolve(msg);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const run of this.pending.values()) run.reject(err);
    this.pending.clear();
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
