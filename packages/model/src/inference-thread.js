// @ts-check
'use strict';
/**
 * The thread that owns an onnxruntime session (started by InferenceEngine).
 *
 * Why a thread: onnxruntime-node's `session.run` (and model loading) is a synchronous native call
 * made on the calling thread (node_modules/onnxruntime-node/dist/backend.js runs
 * `inferenceSession.run(...)` inside a setImmediate), so on the main thread a batch would block
 * BullMQ's lock renewal and all I/O for its whole duration.
 *
 * Why plain JavaScript: this file is loaded by `new Worker(path)` with Node's own loader, both
 * from dist/ (tsc copies it there, allowJs) and under jest, where the package runs from src/ and
 * no TypeScript loader exists for threads. So it holds only onnxruntime calls; everything typed
 * (manifest, graph wrapping, batching) stays on the main thread. Types are checked through JSDoc.
 */
const { parentPort, workerData } = require('node:worker_threads');
const ort = require('onnxruntime-node');

/** @typedef {import('./inference-thread-protocol').ThreadInit} ThreadInit */
/** @typedef {import('./inference-thread-protocol').ToThread} ToThread */
/** @typedef {import('./inference-thread-protocol').FromThread} FromThread */

if (!parentPort) throw new Error('inference-thread.js must run as a worker thread');
const port = parentPort;
/** @type {ThreadInit} */
const init = workerData;

/** @param {FromThread} message @param {ArrayBuffer[]} [transfer] */
function post(message, transfer = []) {
  port.postMessage(message, transfer);
}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A fresh ArrayBuffer holding a tensor's bytes: onnxruntime's output buffers belong to the
 * addon and cannot be transferred, and these outputs are small (1 + 2k bytes per pixel).
 * @param {import('onnxruntime-node').Tensor} t
 */
function ownBytes(t) {
  const data = /** @type {Uint8Array} */ (t.data);
  return data.slice().buffer;
}

/** @returns {Promise<{ session: import('onnxruntime-node').InferenceSession, provider: import('./inference-thread-protocol').ExecutionProvider }>} */
async function createSession() {
  const bytes = new Uint8Array(init.model);
  // onnxruntime prints a GPU provider's load failure on stderr natively (ANSI-coloured, several
  // lines), on top of the error it returns: a GPU process reports that failure once, itself. The
  // level is process-wide and set once, at onnxruntime's first session, so it only takes effect
  // when a GPU process's first session is this one; run errors still come back as exceptions.
  if (init.providers[0] !== 'cpu') ort.env.logLevel = 'fatal';
  for (const provider of init.providers) {
    /** @type {import('onnxruntime-node').InferenceSession.SessionOptions} */
    const options = { executionProviders: [provider] };
    if (init.intraOpThreads > 0) options.intraOpNumThreads = init.intraOpThreads;
    try {
      const session = await ort.InferenceSession.create(bytes, options);
      return { session, provider };
    } catch (err) {
      // A CPU failure is the model itself (corrupt file, unsupported op): nothing to fall back to.
      if (provider === 'cpu') throw new Error(`${init.source}: onnxruntime cannot load it: ${messageOf(err)}`);
      // No fallback left (none asked for): the provider is what failed, said apart from a bad model.
      if (provider === init.providers[init.providers.length - 1]) throw Object.assign(new Error(messageOf(err)), { unavailableProvider: provider });
      post({ type: 'warning', message: `provider ${provider} unavailable (${messageOf(err)}); falling back` });
    }
  }
  throw new Error(`${init.source}: no execution provider could load it`);
}

/**
 * @param {import('onnxruntime-node').InferenceSession} session
 * @param {Uint8Array} pixels
 * @param {number[]} dims
 */
async function run(session, pixels, dims) {
  const result = await session.run({ pixels: new ort.Tensor('uint8', pixels, dims) });
  const classIds = result.class_id;
  const topProbs = result.top_probs;
  const topIds = result.top_ids;
  if (!classIds || !topProbs || !topIds) throw new Error('the wrapped graph did not return class_id, top_probs and top_ids');
  return { classIds, topProbs, topIds };
}

async function main() {
  /** @type {import('onnxruntime-node').InferenceSession} */
  let session;
  try {
    const created = await createSession();
    session = created.session;
    if (init.warmupDims) {
      const size = init.warmupDims.reduce((a, b) => a * b, 1);
      try {
        await run(session, new Uint8Array(size), init.warmupDims);
      } catch (err) {
        await session.release();
        throw new Error(`${init.source}: the warm-up run failed: ${messageOf(err)}`);
      }
    }
    post({ type: 'ready', provider: created.provider });
  } catch (err) {
    /** @type {import('./inference-thread-protocol').ExecutionProvider | undefined} */
    const unavailableProvider = err instanceof Error && 'unavailableProvider' in err ? /** @type {any} */ (err).unavailableProvider : undefined;
    post({ type: 'load-failed', message: messageOf(err), ...(unavailableProvider ? { unavailableProvider } : {}) });
    return;
  }

  port.on('message', (/** @type {ToThread} */ msg) => {
    if (msg.type === 'close') {
      void session.release().finally(() => {
        post({ type: 'closed' });
        port.close();
      });
      return;
    }
    const started = performance.now();
    run(session, new Uint8Array(msg.pixels), msg.dims).then(
      ({ classIds, topProbs, topIds }) => {
        const runMs = performance.now() - started;
        const out = { classIds: ownBytes(classIds), topProbs: ownBytes(topProbs), topIds: ownBytes(topIds) };
        // the input goes back too: session.run has returned, nothing reads it any more (a
        // device provider copied it to the device), and the engine fills it with the next
        // batch instead of allocating and zeroing a fresh one (MBs per batch, and GC)
        post(
          { type: 'result', id: msg.id, runMs, pixels: msg.pixels, ...out, classIdsDims: [...classIds.dims], topDims: [...topProbs.dims] },
          [msg.pixels, out.classIds, out.topProbs, out.topIds],
        );
      },
      (err) => post({ type: 'run-failed', id: msg.id, message: `${init.source}: inference failed: ${messageOf(err)}` }),
    );
  });
}

void main();
