/**
 * Lua scripts that keep a run's bookkeeping atomic. Why counters and not BullMQ flows: a
 * window on a block edge feeds two or four blocks, while a flow child has one parent. Each
 * block instead holds a counter of windows still to finish; a window's completion sets its
 * bit in a "done" bitmap and, the first time only, decrements the counter of every block it
 * touches. A retried or duplicated completion finds its bit set and changes nothing, yet
 * still reports which of its blocks are complete, so a worker that died between this script
 * and enqueueing the merge re-enqueues it on retry (merge job ids are deterministic, so a
 * second enqueue is a no-op).
 */

/** KEYS: spec, status, blockRemaining, blocksRemaining, runsIndex. ARGV: spec json, runId, nBlocks, blockId, count, ... */
export const INIT_RUN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 'running')
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  redis.call('HSET', KEYS[3], ARGV[4 + 2 * i], ARGV[5 + 2 * i])
end
redis.call('SET', KEYS[4], n)
redis.call('SADD', KEYS[5], ARGV[2])
return 1
`;

/**
 * KEYS: windowsDone, outcomeBitmap, stats, blockRemaining, failures.
 * ARGV: index, outcome, windowId, failureMessage, nStats, field, incr, ..., blockId, ...
 * Returns the ids of this window's blocks that have no window left.
 */
export const COMPLETE_WINDOW = `
local index = tonumber(ARGV[1])
local outcome = ARGV[2]
local nStats = tonumber(ARGV[5])
local firstBlock = 6 + 2 * nStats
local old = redis.call('SETBIT', KEYS[1], index, 1)
local ready = {}
if old == 0 then
  if outcome ~= 'done' then redis.call('SETBIT', KEYS[2], index, 1) end
  if outcome == 'failed' then redis.call('HSET', KEYS[5], ARGV[3], ARGV[4]) end
  redis.call('HINCRBY', KEYS[3], 'windows_' .. outcome, 1)
  for i = 0, nStats - 1 do
    redis.call('HINCRBY', KEYS[3], ARGV[6 + 2 * i], ARGV[7 + 2 * i])
  end
  for i = firstBlock, #ARGV do
    if redis.call('HINCRBY', KEYS[4], ARGV[i], -1) == 0 then table.insert(ready, ARGV[i]) end
  end
else
  for i = firstBlock, #ARGV do
    if tonumber(redis.call('HGET', KEYS[4], ARGV[i])) == 0 then table.insert(ready, ARGV[i]) end
  end
end
return ready
`;

/**
 * KEYS: blocksMerged, blockResults, blocksRemaining. ARGV: blockId, result json.
 * Returns the number of blocks still to merge (0 = the run can be finalised).
 */
export const COMPLETE_BLOCK = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return redis.call('DECR', KEYS[3])
end
return tonumber(redis.call('GET', KEYS[3]))
`;

/**
 * `fleet retry`: hands failed windows back to the run. Each window whose failed bit is set
 * loses its done and failed bits and its failure message, and counts up again in every
 * block it feeds; those blocks leave the merged set (their result is dropped), so they merge
 * again once the retried windows finish, and the run goes back to "running". A window that
 * is not failed (already retried, or never failed) is left alone, so a repeated retry
 * changes nothing.
 * KEYS: windowsDone, windowsFailed, stats, blockRemaining, failures, blocksMerged,
 *       blockResults, blocksRemaining, status.
 * ARGV: nWindows, then per window: index, windowId, nBlocks, blockId, ...
 * Returns { windows reset, blockId, ... (blocks whose countdown went up) }.
 */
export const RESET_FAILED = `
local n = tonumber(ARGV[1])
local at = 2
local reset = 0
local touched = {}
local order = {}
for w = 1, n do
  local index = tonumber(ARGV[at])
  local windowId = ARGV[at + 1]
  local nBlocks = tonumber(ARGV[at + 2])
  if redis.call('GETBIT', KEYS[2], index) == 1 then
    reset = reset + 1
    redis.call('SETBIT', KEYS[2], index, 0)
    redis.call('SETBIT', KEYS[1], index, 0)
    redis.call('HDEL', KEYS[5], windowId)
    redis.call('HINCRBY', KEYS[3], 'windows_failed', -1)
    for b = 1, nBlocks do
      local blockId = ARGV[at + 2 + b]
      redis.call('HINCRBY', KEYS[4], blockId, 1)
      if not touched[blockId] then
        touched[blockId] = true
        table.insert(order, blockId)
        if redis.call('SREM', KEYS[6], blockId) == 1 then
          redis.call('HDEL', KEYS[7], blockId)
          redis.call('INCR', KEYS[8])
        end
      end
    end
  end
  at = at + 3 + nBlocks
end
if reset > 0 then redis.call('SET', KEYS[9], 'running') end
local out = { reset }
for _, blockId in ipairs(order) do table.insert(out, blockId) end
return out
`;
