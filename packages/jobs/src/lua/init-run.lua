-- Records a run once: its spec, status and per-block countdowns; indexes it.
-- KEYS[1] spec, KEYS[2] status, KEYS[3] blockRemaining (hash blockId -> windows left),
-- KEYS[4] blocksRemaining (blocks left to merge), KEYS[5] runs index (set)
-- ARGV[1] spec json, ARGV[2] runId, ARGV[3] nBlocks, then per block: blockId, windows
-- Returns 1 when created, 0 when the run already existed (a resume).
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
