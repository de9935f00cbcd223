-- Marks a run done with its report, only when Redis records every window done (the done
-- bitmap holds skipped and failed windows too) and every block merged: a finalisation that
-- outlived a Redis that lost its last second of writes must not call a run done whose
-- windows are about to run again. Checked and set in one script, so nothing comes between.
-- A refresh's carried windows are marked done from the start but are not in the run's window
-- count (the windows it infers): they are taken off.
-- KEYS[1] windowsDone (bitmap), KEYS[2] blocksRemaining, KEYS[3] report, KEYS[4] status,
-- KEYS[5] stats (hash; windows_carried)
-- ARGV[1] the run's window count, ARGV[2] report json
-- Returns { 1 } when the run is marked done, else { 0, windows recorded done, blocks left }.
local done = redis.call('BITCOUNT', KEYS[1]) - tonumber(redis.call('HGET', KEYS[5], 'windows_carried') or '0')
local blocksLeft = tonumber(redis.call('GET', KEYS[2]) or '0')
if done < tonumber(ARGV[1]) or blocksLeft > 0 then return { 0, done, blocksLeft } end
redis.call('SET', KEYS[3], ARGV[2])
redis.call('SET', KEYS[4], 'done')
return { 1 }
