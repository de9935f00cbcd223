import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type IORedis from 'ioredis';

/**
 * The run-state Lua scripts (src/lua/*.lua, each naming its KEYS and ARGV at the top; the
 * build copies them to dist/lua). Why counters and not BullMQ flows: a window on a block edge
 * feeds two or four blocks, while a flow child has one parent. Each block instead holds a
 * countdown of windows still to finish (see complete-windows.lua).
 *
 * Loaded once per process and registered on each connection with ioredis' defineCommand,
 * which calls them by SHA (EVALSHA, falling back to EVAL once after a Redis restart or
 * SCRIPT FLUSH), so a call sends the script's 40-byte hash, not its text.
 */
const SCRIPTS = {
  fleetInitRun: { file: 'init-run.lua', keys: 10 },
  fleetCompleteWindows: { file: 'complete-windows.lua', keys: 6 },
  fleetCompleteBlock: { file: 'complete-block.lua', keys: 4 },
  fleetFinishRun: { file: 'finish-run.lua', keys: 5 },
  fleetResetFailed: { file: 'reset-failed.lua', keys: 9 },
  fleetRestoreWindows: { file: 'restore-windows.lua', keys: 2 },
  fleetRestoreBlocks: { file: 'restore-blocks.lua', keys: 3 },
  fleetRecountBlocks: { file: 'recount-blocks.lua', keys: 2 },
  fleetReleaseClaim: { file: 'release-claim.lua', keys: 1 },
} as const;

export type RunScriptName = keyof typeof SCRIPTS;

let sources: Record<RunScriptName, string> | undefined;

/** The scripts' text, read once (from dist/lua when built, src/lua under jest). */
export function runScriptSources(): Record<RunScriptName, string> {
  sources ??= Object.fromEntries(
    Object.entries(SCRIPTS).map(([name, s]) => [name, readFileSync(join(__dirname, 'lua', s.file), 'utf8')]),
  ) as Record<RunScriptName, string>;
  return sources;
}

type ScriptCall = (...args: (string | number | Buffer)[]) => Promise<unknown>;
export type RunScripts = { [K in RunScriptName]: ScriptCall };

const registered = new WeakSet<IORedis>();

/** The connection with the run scripts defined on it (once per connection). */
export function withRunScripts(redis: IORedis): IORedis & RunScripts {
  if (!registered.has(redis)) {
    const text = runScriptSources();
    for (const [name, s] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: s.keys, lua: text[name as RunScriptName] });
    }
    registered.add(redis);
  }
  return redis as IORedis & RunScripts;
}
