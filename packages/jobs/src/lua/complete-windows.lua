-- Records the outcome of several windows at once (a worker sends one call per batch).
-- A window's completion sets its bit in the done bitmap and, the first time only, its bit in
-- the skipped or failed bitmap and its failure message, and counts it down in every block it
-- feeds. A repeated completion (a retried group) changes nothing but still reports its blocks
-- that have no window left, so a worker that died between this script and enqueueing the
-- merge re-enqueues it. Counts of done, skipped and failed windows are BITCOUNTs of the
-- bitmaps, not stored twice. Most of a call's cost is per argument and per redis.call, so a
-- window is two arguments, the done bits are one BITFIELD, the countdowns one HINCRBY per
-- block, and the stats come summed.
-- KEYS[1] windowsDone, KEYS[2] windowsSkipped, KEYS[3] windowsFailed, KEYS[4] stats (sums),
-- KEYS[5] blockRemaining, KEYS[6] failures (hash windowId -> message)
-- ARGV[1] nStats, then nStats stat names, then nStats sums over the call's windows (added
--   only when every window of the call is recorded for the first time, so a duplicate
--   completion never counts twice),
-- then nBlocks, then nBlocks block ids (the blocks this call's windows feed),
-- then nWindows, then per window: index, code = outcome letter (d|s|f) followed by one
--   character per block the window feeds: block number b (0-based, < 94) as char(33 + b),
-- then per failed window: index, windowId, message.
-- Returns the ids of the blocks (each once) that have no window left.
local nStats = tonumber(ARGV[1])
local at = 2 + 2 * nStats
local nBlocks = tonumber(ARGV[at])
local blockIds = {}
for b = 1, nBlocks do blockIds[b] = ARGV[at + b] end
at = at + nBlocks + 1
local nWindows = tonumber(ARGV[at])
at = at + 1
if nWindows == 0 then return {} end
local ops = {}
for w = 0, nWindows - 1 do
  local i = 4 * w
  ops[i + 1] = 'SET'
  ops[i + 2] = 'u1'
  ops[i + 3] = ARGV[at + 2 * w]
  ops[i + 4] = 1
end
local old = redis.call('BITFIELD', KEYS[1], unpack(ops))
local minus = {}
local recheck = {}
for b = 1, nBlocks do minus[b] = 0 end
local allFresh = true
local freshFailed = {}
for w = 0, nWindows - 1 do
  local index = ARGV[at + 2 * w]
  local code = ARGV[at + 2 * w + 1]
  local fresh = old[w + 1] == 0
  local outcome = string.sub(code, 1, 1)
  if fresh then
    if outcome == 's' then redis.call('SETBIT', KEYS[2], index, 1) end
    if outcome == 'f' then
      redis.call('SETBIT', KEYS[3], index, 1)
      freshFailed[index] = true
    end
  else
    allFresh = false
  end
  for k = 2, #code do
    local b = string.byte(code, k) - 32
    if fresh then minus[b] = minus[b] + 1 else recheck[b] = true end
  end
end
at = at + 2 * nWindows
while at + 2 <= #ARGV do
  if freshFailed[ARGV[at]] then redis.call('HSET', KEYS[6], ARGV[at + 1], ARGV[at + 2]) end
  at = at + 3
end
local ready = {}
for b = 1, nBlocks do
  local left
  if minus[b] > 0 then
    left = redis.call('HINCRBY', KEYS[5], blockIds[b], -minus[b])
  elseif recheck[b] then
    left = tonumber(redis.call('HGET', KEYS[5], blockIds[b]))
  end
  if left == 0 then table.insert(ready, blockIds[b]) end
end
if allFresh then
  for s = 1, nStats do
    local sum = tonumber(ARGV[1 + nStats + s])
    if sum ~= 0 then redis.call('HINCRBY', KEYS[4], ARGV[1 + s], sum) end
  end
end
return ready
