-- Records the outcome of several windows at once (a worker sends one call per batch).
-- A window's completion sets its bit in the done bitmap and, the first time only, its bit in
-- the skipped or failed bitmap, its failure message, adds its stats to the run's sums and
-- counts it down in every block it feeds. A repeated completion (a retried group) changes
-- nothing but still reports its blocks that have no window left, so a worker that died
-- between this script and enqueueing the merge re-enqueues it. Counts of done, skipped and
-- failed windows are BITCOUNTs of the bitmaps, not stored twice.
-- KEYS[1] windowsDone, KEYS[2] windowsSkipped, KEYS[3] windowsFailed, KEYS[4] stats (sums),
-- KEYS[5] blockRemaining, KEYS[6] failures (hash windowId -> message)
-- ARGV[1] nStats, ARGV[2 .. 1 + nStats] stat field names, then per window:
--   index, outcome (done|skipped|failed), windowId, failure message, nBlocks, blockId x nBlocks,
--   stat value x nStats
-- Returns the ids of the blocks (each once) that have no window left.
local nStats = tonumber(ARGV[1])
local sums = {}
for s = 1, nStats do sums[s] = 0 end
local ready = {}
local seen = {}
local at = 2 + nStats
while at <= #ARGV do
  local index = tonumber(ARGV[at])
  local outcome = ARGV[at + 1]
  local nBlocks = tonumber(ARGV[at + 4])
  local firstBlock = at + 5
  local firstStat = firstBlock + nBlocks
  local old = redis.call('SETBIT', KEYS[1], index, 1)
  if old == 0 then
    if outcome == 'skipped' then redis.call('SETBIT', KEYS[2], index, 1) end
    if outcome == 'failed' then
      redis.call('SETBIT', KEYS[3], index, 1)
      redis.call('HSET', KEYS[6], ARGV[at + 2], ARGV[at + 3])
    end
    for s = 1, nStats do sums[s] = sums[s] + tonumber(ARGV[firstStat + s - 1]) end
    for b = firstBlock, firstStat - 1 do
      local id = ARGV[b]
      if redis.call('HINCRBY', KEYS[5], id, -1) == 0 and not seen[id] then
        seen[id] = true
        table.insert(ready, id)
      end
    end
  else
    for b = firstBlock, firstStat - 1 do
      local id = ARGV[b]
      if not seen[id] and tonumber(redis.call('HGET', KEYS[5], id)) == 0 then
        seen[id] = true
        table.insert(ready, id)
      end
    end
  end
  at = firstStat + nStats
end
for s = 1, nStats do
  if sums[s] ~= 0 then redis.call('HINCRBY', KEYS[4], ARGV[1 + s], sums[s]) end
end
return ready
