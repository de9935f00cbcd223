-- Sets each block's countdown to the number of its windows not done, read from the done
-- bitmap. Derived rather than decremented: windows restored from storage, and completions a
-- worker wrote into a wiped Redis before the run existed again (their bit set, their
-- decrement overwritten by the re-created countdown), are then each counted exactly once. A
-- completion after this script finds its bit unset and decrements as usual.
-- KEYS[1] windowsDone, KEYS[2] blockRemaining
-- ARGV: per block: blockId, nWindows, window index x nWindows
-- Returns the ids of the blocks with no window left.
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
