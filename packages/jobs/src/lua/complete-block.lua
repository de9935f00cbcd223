-- Records a merged block once.
-- KEYS[1] blocksMerged (set), KEYS[2] blockResults (hash), KEYS[3] blocksRemaining
-- ARGV[1] blockId, ARGV[2] result json
-- Returns the number of blocks still to merge (0 = the run can be finalised).
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return redis.call('DECR', KEYS[3])
end
return tonumber(redis.call('GET', KEYS[3]))
