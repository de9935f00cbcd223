#!/usr/bin/env node
'use strict';
/**
 * s3-server-main.js as a separate process that also records every HTTP request it receives,
 * for end-to-end tests that check how the fleet's processes talk to S3 (e.g. that input
 * dalles are only read by Range requests).
 *
 *   node test/support/s3-server-logged-main.js --log FILE [--bucket NAME]...
 *
 * prints {"port":N,"endpoint":"http://127.0.0.1:N","directory":"..."} once listening, appends
 * one JSON line per request to FILE: {"method":"GET","url":"/bucket/key","range":"bytes=0-99"}
 * (range only when the request had one), and stops on SIGTERM / SIGINT or when its parent dies.
 * Its s3rver folder is a fresh temp folder, removed on exit.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startS3rver, stopS3rver } = require('./s3-server-main.js');

async function main() {
  const argv = process.argv.slice(2);
  let logFile;
  const buckets = [];
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value after ${flag}`);
    if (flag === '--log') logFile = path.resolve(value);
    else if (flag === '--bucket') buckets.push(value);
    else throw new Error(`unknown argument ${flag}`);
  }
  if (!logFile) throw new Error('--log FILE is required');
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  const { server, port } = await startS3rver({ directory, buckets });
  const log = fs.openSync(logFile, 'a');
  server.httpServer.on('request', (request) => {
    const range = request.headers.range;
    fs.writeSync(log, `${JSON.stringify({ method: request.method, url: request.url, ...(range === undefined ? {} : { range }) })}\n`);
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stopS3rver(server);
    fs.closeSync(log);
    fs.rmSync(directory, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1000);
  process.stdout.write(`${JSON.stringify({ port, endpoint: `http://127.0.0.1:${port}`, directory })}\n`);
}

main().catch((error) => {
  process.stderr.write(`s3-server-logged-main: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
