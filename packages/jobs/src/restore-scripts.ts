/**
 * Lua scripts that rebuild a run's state in Redis from what its output store holds (see
 * RunRestore). Each one is idempotent and safe while workers and mergers write the same keys:
 * a window or block already recorded is left alone, and counters are recomputed from the sets
 * they count inside one script, so a completion racing the restore is counted once either way.
 */

/**
 * Marks windows done whose work is in storage (a mask tile, or every block they feed merged).
 * A window already done keeps its outcome; a newly marked one counts as done once, like a
 * completion, and also as `windows_restored`.
 * KEYS: windowsDone, stats. ARGV: index, ...
 * Returns how many windows were newly marked.
 */
export const RESTORE_WINDOWS = `
local marked = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], tonumber(ARGV[i]), 1) == 0 then marked = marked + 1 end
end
if marked > 0 then
  redis.call('HINCRBY', KEYS[2], 'windows_done', marked)
  redis.call('HINCRBY', KEYS[2], 'windows_restored', marked)
end
return marked
`;

/**
 * Marks blocks merged from their records in storage (result restored), then recomputes the
 * count of blocks left from the merged set: a merger that recorded a block in a wiped Redis
 * before the run was created again left a member whose DECR the re-created counter lost.
 * KEYS: blocksMerged, blockResults, blocksRemaining. ARGV: total blocks, blockId, result json, ...
 * Returns { blocks newly marked, blocks left to merge }.
 */
export const RESTORE_BLOCKS = `
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
`;

/**
 * Sets each block's countdown to the number of its windows not done, read from the done
 * bitmap. Derived rather than decremented: windows restored from storage, and completions a
 * worker wrote into a wiped Redis before the run existed again (their bit set, their
 * decrement overwritten by the re-created countdown), are then each counted exactly once. A
 * completion after this script finds its bit unset and decrements as usual.
 * KEYS: windowsDone, blockRemaining. ARGV: blockId, nWindows, index, ..., blockId, ...
 * Returns the ids of the blocks with no window left.
 */
export const RECOUNT_BLOCKS = `
local at = 1
local ready = {}
while at <= #ARGV do
  local blockId = ARGV[at]
  local n = tonumber(ARGV[at + 1])
  local left = 0
  for j = 1, n do
    if redis.call('GETBIT', KEYS[1], tonumber(ARGV[at + 1 + j])) == 0 then left = left + 1 end
  end
  redis.call('HSET', KEYS[2], blockId, left)
  if left == 0 then table.insert(ready, blockId) end
  at = at + 2 + n
end
return ready
`;
