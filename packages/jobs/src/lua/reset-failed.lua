-- `fleet retry`: hands failed windows back to the run. Each window whose failed bit is set
-- loses its done and failed bits and its failure message, and counts up again in every block
-- it feeds; those blocks leave the merged set (their result is dropped), so they merge again
-- once the retried windows finish, and the run goes back to "running". A window that is not
-- failed (already retried, or never failed) is left alone, so a repeated retry changes nothing.
-- KEYS[1] windowsDone, KEYS[2] windowsFailed, KEYS[3] blockRemaining, KEYS[4] failures,
-- KEYS[5] blocksMerged, KEYS[6] blockResults, KEYS[7] blocksRemaining, KEYS[8] status
-- ARGV[1] nWindows, then per window: index, windowId, nBlocks, blockId x nBlocks
-- Returns { windows reset, blockId, ... (blocks whose countdown went up) }.
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
    redis.call('HDEL', KEYS[4], windowId)
    for b = 1, nBlocks do
      local blockId = ARGV[at + 2 + b]
      redis.call('HINCRBY', KEYS[3], blockId, 1)
      if not touched[blockId] then
        touched[blockId] = true
        table.insert(order, blockId)
        if redis.call('SREM', KEYS[5], blockId) == 1 then
          redis.call('HDEL', KEYS[6], blockId)
          redis.call('INCR', KEYS[7])
        end
      end
    end
  end
  at = at + 3 + nBlocks
end
if reset > 0 then redis.call('SET', KEYS[8], 'running') end
local out = { reset }
for _, blockId in ipairs(order) do table.insert(out, blockId) end
return out
