-- `fleet retry`, one bounded chunk of failed windows (see retry-failed.ts for the order of
-- operations around it). Each window whose failed bit is set loses its done and failed bits
-- and its failure message, gets its bit in the run's "retrying" bitmap (so a retry
-- interrupted before the window is enqueued again finds it there), and counts up again in
-- every block it feeds; those blocks leave the merged set (their result is dropped), so they
-- merge again once the retried windows finish, and the run goes back to "running". A window
-- that is not failed (already reset, or never failed) is left alone: running the script twice
-- on a chunk changes nothing the second time. Called with a bounded chunk (RETRY_CHUNK
-- windows): one call for 100,000 windows would pass ~500,000 arguments and block Redis.
-- KEYS[1] windowsDone, KEYS[2] windowsFailed, KEYS[3] blockRemaining, KEYS[4] failures,
-- KEYS[5] blocksMerged, KEYS[6] blockResults, KEYS[7] blocksRemaining, KEYS[8] status,
-- KEYS[9] retrying
-- ARGV[1] nWindows, then per window: index, windowId, nBlocks, blockId x nBlocks
-- Returns { nReset, index of each window reset..., blockId, ... (blocks whose countdown went up) }.
local n = tonumber(ARGV[1])
local at = 2
local resetIndices = {}
local touched = {}
local order = {}
for w = 1, n do
  local index = tonumber(ARGV[at])
  local windowId = ARGV[at + 1]
  local nBlocks = tonumber(ARGV[at + 2])
  if redis.call('GETBIT', KEYS[2], index) == 1 then
    table.insert(resetIndices, index)
    redis.call('SETBIT', KEYS[2], index, 0)
    redis.call('SETBIT', KEYS[1], index, 0)
    redis.call('SETBIT', KEYS[9], index, 1)
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
if #resetIndices > 0 then redis.call('SET', KEYS[8], 'running') end
local out = { #resetIndices }
for _, index in ipairs(resetIndices) do table.insert(out, index) end
for _, blockId in ipairs(order) do table.insert(out, blockId) end
return out
