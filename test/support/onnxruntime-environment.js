'use strict';
/**
 * Jest environment for tests that run onnxruntime-node.
 *
 * Why: jest runs each test file in its own vm context, so its Float32Array is not the one the
 * native addon allocates output tensors with; onnxruntime-common then rejects every result
 * ("A float32 tensor's data must be type of function Float32Array()"). Sharing the host's typed
 * array constructors with the test context makes `instanceof` agree again. jest.config.js
 * makes it the environment of every test file.
 */
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) {
      if (globalThis[name] !== undefined) this.global[name] = globalThis[name];
    }
  }
}

module.exports = OrtEnvironment;
