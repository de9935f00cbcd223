#!/usr/bin/env node
// The `fleet` command. Built from apps/cli/src (npm run build).
require('../dist/main.js').main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`fleet: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
