-- Marks blocks merged from their records in storage (result restored), then recomputes the
-- count of blocks left from the merged set: a merger that recorded a block in a wiped Redis
-- before the run was created again left a member whose DECR the re-created counter lost.
-- KEYS[1] blocksMerged, KEYS[2] blockResults, KEYS[3] blocksRemaining
-- ARGV[1] total blocks, then per block: blockId, result json
-- Returns { blocks newly marked, blocks left to merge }.
local restored = 0
for i = 2, #ARGV, 2 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    restored = restored + 1
  end
end
local remaining = tonumber(ARGV[1]) - redis.call('SCARD', KEYS[1])
redis.call('SET', KEYS[3], remaining)
return { restored, remaining }
