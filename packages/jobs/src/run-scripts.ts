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
