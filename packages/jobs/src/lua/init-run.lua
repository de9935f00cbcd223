-- Records a run once: its spec, status and per-block countdowns; indexes it. A refresh run
-- also starts with the windows it does not infer again marked done (a bitmap) and its carried
-- blocks recorded merged (the previous run's file and figures): see refresh-windows.ts.
-- KEYS[1] spec, KEYS[2] status, KEYS[3] blockRemaining (hash blockId -> windows left),
-- KEYS[4] blocksRemaining (blocks left to merge), KEYS[5] runs index (set),
-- KEYS[6] windowsDone, KEYS[7] blocksMerged, KEYS[8] blockResults, KEYS[9] stats,
-- KEYS[10] windowsCarried (the same bitmap, kept apart so that per-block counts can tell)
-- ARGV[1] spec json, ARGV[2] runId, ARGV[3] nBlocks (blocks to merge), then per block:
-- blockId, windows; then nCarried, then per carried block: blockId, result json; then the
-- done bitmap (bytes, may be empty) and the number of windows it marks.
-- Returns 1 when created, 0 when the run already existed (a resume).
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 'running')
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  redis.call('HSET', KEYS[3], ARGV[4 + 2 * i], ARGV[5 + 2 * i])
end
redis.call('SET', KEYS[4], n)
local at = 4 + 2 * n
local nCarried = tonumber(ARGV[at] or '0')
for i = 0, nCarried - 1 do
  redis.call('SADD', KEYS[7], ARGV[at + 1 + 2 * i])
  redis.call('HSET', KEYS[8], ARGV[at + 1 + 2 * i], ARGV[at + 2 + 2 * i])
end
at = at + 1 + 2 * nCarried
local bitmap = ARGV[at]
if bitmap and #bitmap > 0 then
  redis.call('SET', KEYS[6], bitmap)
  redis.call('SET', KEYS[10], bitmap)
  redis.call('HSET', KEYS[9], 'windows_carried', ARGV[at + 1])
end
redis.call('SADD', KEYS[5], ARGV[2])
return 1
