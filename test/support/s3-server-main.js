#!/usr/bin/env node
'use strict';
/**
 * A real S3-compatible HTTP server (s3rver) on loopback, for tests.
 *
 * Plain CommonJS on purpose: end-to-end tests run it as its own process with plain `node`
 * (no TypeScript loader is available there), and the in-process harness `s3-server.ts`
 * requires `startS3rver` from here so the s3rver settings live in one place.
 *
 * As a process:
 *   node test/support/s3-server-main.js [--port N] [--dir PATH] [--bucket NAME]... [--log FILE]
 * prints one JSON line on stdout once listening:
 *   {"port":N,"endpoint":"http://127.0.0.1:N","directory":"..."}
 * and stops on SIGTERM / SIGINT, or when its parent process dies (so a crashed test run
 * leaves no orphan server behind). --port defaults to 0 (a free port chosen by the OS); --dir defaults
 * to a fresh temp folder, removed on exit.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const S3rver = require('s3rver');

/**
 * s3rver 3.7 encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3
 * (Node >= 17) only offers in its legacy provider: every truncated listing then fails with a
 * 500. Single DES is exactly triple DES with the same key three times, which the default
 * provider has, so calls for 'des' that the runtime refuses are retried that way. Only calls
 * that would otherwise throw are changed, so nothing else in the process sees a difference.
 */
function allowSingleDes() {
  const marker = Symbol.for('flair-fleet.s3rver-des-shim');
  if (crypto[marker]) return;
  const wrap = (original) =>
    function desFallback(algorithm, key, iv, options) {
      try {
        return original.call(crypto, algorithm, key, iv, options);
      } catch (error) {
        const single = typeof algorithm === 'string' && /^des(-cbc)?$/i.test(algorithm);
        if (!single || !Buffer.isBuffer(key) || key.length !== 8) throw error;
        return original.call(crypto, 'des-ede3-cbc', Buffer.concat([key, key, key]), iv, options);
      }
    };
  crypto.createCipheriv = wrap(crypto.createCipheriv);
  crypto.createDecipheriv = wrap(crypto.createDecipheriv);
  crypto[marker] = true;
}

/**
 * Starts s3rver on 127.0.0.1.
 * @param {{ port?: number, directory: string, buckets?: string[] }} options
 * @returns {Promise<{ server: any, port: number }>}
 */
async function startS3rver({ port = 0, directory, buckets = [] }) {
  allowSingleDes();
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    directory,
    silent: true,
    // Requests come to http://127.0.0.1:PORT/bucket/key (path style); never guess a bucket
    // from the Host header.
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  return { server, port: address.port };
}

/** Closes the server and every open (keep-alive) connection, so the caller can exit at once. */
async function stopS3rver(server) {
  const closed = server.close();
  // Node 20's close() only drops idle sockets; a client mid-request would hold it open.
  if (server.httpServer && typeof server.httpServer.closeAllConnections === 'function') {
    server.httpServer.closeAllConnections();
  }
  await closed;
}

function parseArgs(argv) {
  const options = { port: 0, directory: undefined, buckets: [], log: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${flag}`);
    if (flag === '--port') {
      options.port = Number(value);
      if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
        throw new Error(`--port must be an integer 0..65535, got ${value}`);
      }
    } else if (flag === '--dir') {
      options.directory = path.resolve(value);
    } else if (flag === '--bucket') {
      options.buckets.push(value);
    } else if (flag === '--log') {
      options.log = path.resolve(value);
    } else {
      throw new Error(`unknown argument ${flag}`);
    }
    i += 1;
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  fs.mkdirSync(directory, { recursive: true });
  const { server, port } = await startS3rver({ ...options, directory });
  // --log FILE: one JSON line per HTTP request, so end-to-end tests can check how the fleet
  // talks to S3 (e.g. that input dalles are only read with Range requests)
  const log = options.log === undefined ? undefined : fs.openSync(options.log, 'a');
  if (log !== undefined) {
    server.httpServer.on('request', (request) => {
      const range = request.headers.range;
      fs.writeSync(log, `${JSON.stringify({ method: request.method, url: request.url, ...(range === undefined ? {} : { range }) })}\n`);
    });
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stopS3rver(server);
    if (log !== undefined) fs.closeSync(log);
    if (ownsDirectory) fs.rmSync(directory, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Watching the parent pid rather than stdin: a caller may well spawn us with stdin ignored.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1000);

  process.stdout.write(
    `${JSON.stringify({ port, endpoint: `http://127.0.0.1:${port}`, directory })}\n`,
  );
}

module.exports = { startS3rver, stopS3rver };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`s3-server-main: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  });
}
