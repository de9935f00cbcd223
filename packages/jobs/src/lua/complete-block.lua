-- Records a merged block once, only while every window it is made of is recorded done: a
-- merger whose job outlived a Redis that lost its last second of writes (or a `fleet retry`
-- that reset windows under it) may come back with a block whose windows Redis no longer
-- counts done. Recording it would let the run finalise before those windows run again.
-- KEYS[1] blocksMerged (set), KEYS[2] blockResults (hash), KEYS[3] blocksRemaining,
-- KEYS[4] blockRemaining (hash blockId -> windows of the block not yet done)
-- ARGV[1] blockId, ARGV[2] result json
-- Returns the number of blocks still to merge (0 = the run can be finalised), or -1 when the
-- block still has windows not done (nothing recorded; the merge waits for them).
local left = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
if left > 0 then return -1 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return redis.call('DECR', KEYS[3])
end
return tonumber(redis.call('GET', KEYS[3]))
